// Test helpers around the journal, reusable by any suite that compares journals or engine state
// across a backup, a restore or a crash:
//  - JournalLoad: a thread that owns a JournalWriter and appends records until stopped, the
//    "engine under load" of the backup tests;
//  - journal_digest(): SHA-256 over every engine record (sequence, timestamp, type, payload) of a
//    journal directory up to a sequence, so two journals can be compared record for record.
//
// Header-only; tests only.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "persist/journal.hpp"
#include "persist/journal_entry.hpp"
#include "persist/journal_reader.hpp"

namespace qt::persist::test {

// The payload of record `sequence` in a JournalLoad journal: derived from the sequence, so a
// journal's content can be re-derived and any record told apart from its neighbours.
inline FixSequenceRecord load_payload(uint64_t sequence) {
  FixSequenceRecord record;
  std::snprintf(record.session_id, sizeof(record.session_id), "LOAD->%llu",
                static_cast<unsigned long long>(sequence % 97));
  record.next_incoming = sequence;
  record.next_outgoing = sequence * 3 + 1;
  return record;
}

// Appends records 1, 2, 3, ... to a fresh journal from its own thread (the writer's only
// thread), committing every `records_per_commit` records and pausing `pause` after each commit
// so the disk is not flooded; stops by itself after max_records.
class JournalLoad {
 public:
  struct Options {
    std::filesystem::path journal_dir;
    uint64_t segment_size = 1 << 20;
    Durability durability = Durability::kAsync;
    uint32_t records_per_commit = 32;
    std::chrono::microseconds pause{100};
    uint64_t max_records = 2'000'000;
  };

  explicit JournalLoad(Options options) : options_(std::move(options)) {}
  ~JournalLoad() { (void)stop(); }
  JournalLoad(const JournalLoad&) = delete;
  JournalLoad& operator=(const JournalLoad&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // Stops appending, closes (seals) the journal and joins. Returns the writer's first error.
  absl::Status stop() {
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
    return status_;
  }

  // Blocks until at least n records are durable (or the writer failed / stopped).
  bool wait_for_durable(uint64_t n) const {
    while (durable() < n) {
      if (done_.load(std::memory_order_acquire)) return durable() >= n;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  uint64_t appended() const { return appended_.load(std::memory_order_acquire); }
  // The statuses are written by the load thread; read them after stop().
  const absl::Status& status() const { return status_; }

 private:
  void run() {
    JournalOptions journal;
    journal.dir = options_.journal_dir;
    journal.segment_size = options_.segment_size;
    journal.durability = options_.durability;
    absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(journal, 1);
    if (!writer.ok()) {
      status_ = writer.status();
      done_.store(true, std::memory_order_release);
      return;
    }
    uint64_t sequence = 1;
    while (!stop_.load(std::memory_order_acquire) && sequence <= options_.max_records) {
      for (uint32_t i = 0; i < options_.records_per_commit && sequence <= options_.max_records;
           ++i, ++sequence) {
        const int64_t timestamp = static_cast<int64_t>(1'700'000'000'000'000'000ll + sequence);
        const JournalEntry entry =
            make_entry(RecordType::kFixSequence, sequence, timestamp, load_payload(sequence));
        if (absl::Status s = (*writer)->append(entry); !s.ok()) {
          status_ = s;
          stop_.store(true);
          break;
        }
        appended_.store(sequence, std::memory_order_release);
      }
      if (absl::Status s = (*writer)->commit(); !s.ok() && status_.ok()) status_ = s;
      durable_.store((*writer)->durable_sequence().load(std::memory_order_acquire),
                     std::memory_order_release);
      if (options_.pause.count() > 0) std::this_thread::sleep_for(options_.pause);
    }
    if (absl::Status s = (*writer)->close(); !s.ok() && status_.ok()) status_ = s;
    done_.store(true, std::memory_order_release);
  }

  Options options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> durable_{0};
  absl::Status status_;
};

struct JournalDigest {
  uint64_t records = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  std::string sha256;   // hex, over every record's sequence, timestamp, type and payload
  absl::Status status;  // the reader's end status (OK = clean end)

  bool operator==(const JournalDigest& other) const {
    return records == other.records && first_sequence == other.first_sequence &&
           last_sequence == other.last_sequence && sha256 == other.sha256;
  }
};

inline std::ostream& operator<<(std::ostream& os, const JournalDigest& digest) {
  return os << "{records=" << digest.records << " sequences " << digest.first_sequence << ".."
            << digest.last_sequence << " sha256=" << digest.sha256 << " status=" << digest.status
            << "}";
}

// Digest of the engine records of the journal in `dir` with sequence <= through_sequence.
inline JournalDigest journal_digest(
    const std::filesystem::path& dir,
    uint64_t through_sequence = std::numeric_limits<uint64_t>::max()) {
  JournalDigest digest;
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
  if (!reader.ok()) {
    digest.status = reader.status();
    return digest;
  }
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  RecordView view;
  while ((*reader)->next(view)) {
    if (view.sequence > through_sequence) break;
    if (digest.records == 0) digest.first_sequence = view.sequence;
    digest.last_sequence = view.sequence;
    ++digest.records;
    EVP_DigestUpdate(context, &view.sequence, sizeof(view.sequence));
    EVP_DigestUpdate(context, &view.timestamp_ns, sizeof(view.timestamp_ns));
    EVP_DigestUpdate(context, &view.type, sizeof(view.type));
    const uint64_t size = view.payload.size();
    EVP_DigestUpdate(context, &size, sizeof(size));
    EVP_DigestUpdate(context, view.payload.data(), view.payload.size());
  }
  digest.status = (*reader)->status();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_size = 0;
  EVP_DigestFinal_ex(context, out, &out_size);
  EVP_MD_CTX_free(context);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < out_size; ++i) {
    digest.sha256 += kHex[out[i] >> 4];
    digest.sha256 += kHex[out[i] & 15];
  }
  return digest;
}

}  // namespace qt::persist::test
