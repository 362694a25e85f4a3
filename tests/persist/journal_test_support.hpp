// Helpers for the journal tests: a scratch directory, one deterministic entry of every record
// type per sequence number (so a test can rebuild what any sequence must hold), a journal
// written with them, and byte-level damage to segment files.
//
// Header-only; tests only (allocates and uses the filesystem freely).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "persist/data_dir.hpp"
#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "tests/persist/sample_records.hpp"
#include "tests/support/test_files.hpp"

namespace qt::persist::test {

// <gtest temp dir>/qt_journal_<tag>_<pid>_<n>, removed at the end of the test.
class TempJournalDir : public qt::testing::ScratchDir {
 public:
  explicit TempJournalDir(const std::string& tag) : ScratchDir("journal_" + tag) {}
};

inline JournalOptions small_options(const std::filesystem::path& dir,
                                    Durability durability = Durability::kAsync,
                                    uint64_t segment_size = 64 * 1024) {
  JournalOptions options;
  options.dir = dir;
  options.segment_size = segment_size;
  options.durability = durability;
  return options;
}

// Appends sample entries [first, last] with a commit every `commit_every` records and closes
// the writer (which seals the active segment).
inline void write_sample_journal(const JournalOptions& options, uint64_t first, uint64_t last,
                                 uint64_t commit_every = 50) {
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, first);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (uint64_t s = first; s <= last; ++s) {
    ASSERT_TRUE((*writer)->append(sample_entry(s)).ok()) << s;
    if (s % commit_every == 0) {
      ASSERT_TRUE((*writer)->commit().ok());
    }
  }
  ASSERT_TRUE((*writer)->commit().ok());
  ASSERT_TRUE((*writer)->close().ok());
}

// The same, in a child process that then dies without closing anything (_exit: no
// destructors), as a crashed engine would: the records are in the files, the active segment is
// not sealed, a prepared next segment may be left behind. Returns the child's exit code.
inline int write_sample_journal_then_crash(const JournalOptions& options, uint64_t first,
                                           uint64_t last) {
  const pid_t child = ::fork();
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, first);
    if (!writer.ok()) ::_exit(3);
    for (uint64_t s = first; s <= last; ++s) {
      if (!(*writer)->append(sample_entry(s)).ok()) ::_exit(4);
    }
    if (!(*writer)->commit().ok()) ::_exit(5);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The sorted segment files of a journal directory.
inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".qtj") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

using qt::testing::read_file;

inline uint64_t file_size(const std::filesystem::path& path) {
  return std::filesystem::file_size(path);
}

inline std::string read_bytes(const std::filesystem::path& path, uint64_t offset,
                              std::size_t count) {
  std::string out(count, '\0');
  const int fd = ::open(path.c_str(), O_RDONLY);
  const ssize_t got = ::pread(fd, out.data(), count, static_cast<off_t>(offset));
  ::close(fd);
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

inline void write_bytes(const std::filesystem::path& path, uint64_t offset,
                        const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

inline void flip_byte(const std::filesystem::path& path, uint64_t offset) {
  std::string byte = read_bytes(path, offset, 1);
  ASSERT_EQ(byte.size(), 1u);
  byte[0] = static_cast<char>(byte[0] ^ 0x5A);
  write_bytes(path, offset, byte);
}

inline void truncate_file(const std::filesystem::path& path, uint64_t size) {
  std::filesystem::resize_file(path, size);
}

// Offsets of the records of one segment, from a reader that includes internal records.
struct RecordLocation {
  uint64_t sequence;
  uint16_t type;
  std::filesystem::path segment;
  uint64_t offset;
  uint64_t length;  // header + payload
};
inline std::vector<RecordLocation> record_locations(const std::filesystem::path& dir) {
  std::vector<RecordLocation> out;
  auto reader = JournalReader::open(dir, {0, true});
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  RecordView view;
  while ((*reader)->next(view)) {
    out.push_back(
        {view.sequence, view.type, *view.segment_path, view.offset, 32 + view.payload.size()});
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  return out;
}

}  // namespace qt::persist::test
