// Random damage to a journal directory — flipped bytes, random overwrites, zeroed ranges, cut,
// deleted, extended, renamed and stray files — must never crash verify, the reader or recovery
// (run it under ASan), and their answers must agree: a clean verdict reads back completely, a
// torn tail recovers to a journal that verifies clean and reads dense and that the writer
// continues, corruption is refused without a change.
#include <gtest/gtest.h>

#include <random>

#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "tests/persist/journal_test_support.hpp"

namespace qt::persist {
namespace {

using test::TempJournalDir;

std::vector<std::filesystem::path> all_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string random_bytes(std::mt19937_64& rng, std::size_t count) {
  std::string out(count, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xFF);
  return out;
}

// Applies one random mutation; returns a description for failure messages.
std::string mutate(const std::filesystem::path& dir, std::mt19937_64& rng) {
  const std::vector<std::filesystem::path> files = all_files(dir);
  if (files.empty()) return "nothing to mutate";
  const std::filesystem::path& file = files[rng() % files.size()];
  const uint64_t size = std::filesystem::file_size(file);
  const uint64_t at = size == 0 ? 0 : rng() % size;
  const std::string name = file.filename().string();
  switch (rng() % 9) {
    case 0:
    case 1:
      if (size == 0) return "empty " + name;
      test::flip_byte(file, at);
      return "flip byte " + std::to_string(at) + " of " + name;
    case 2: {
      const std::size_t n = 1 + rng() % 64;
      test::write_bytes(file, at, random_bytes(rng, n));
      return "overwrite " + std::to_string(n) + " bytes at " + std::to_string(at) + " of " + name;
    }
    case 3: {
      const std::size_t n = 1 + rng() % 512;
      test::write_bytes(file, at, std::string(n, '\0'));
      return "zero " + std::to_string(n) + " bytes at " + std::to_string(at) + " of " + name;
    }
    case 4: test::truncate_file(file, at); return "cut " + name + " to " + std::to_string(at);
    case 5: std::filesystem::remove(file); return "delete " + name;
    case 6:
      test::write_bytes(file, size, random_bytes(rng, 1 + rng() % 200));
      return "extend " + name;
    case 7: {
      const std::filesystem::path target = dir / segment_file_name(1 + rng() % 3000);
      std::error_code ec;
      std::filesystem::rename(file, target, ec);
      return "rename " + name + " to " + target.filename().string();
    }
    default: {
      const std::filesystem::path stray = dir / "prepared-00000000000000000777.qtj.prep";
      test::write_bytes(
          stray, 0, rng() % 2 == 0 ? std::string(4096, '\0') : random_bytes(rng, 1 + rng() % 300));
      return "stray prepared file";
    }
  }
}

TEST(JournalFuzz, RandomDamageNeverCrashesAndTheVerdictsAgree) {
  TempJournalDir pristine("fuzz_pristine");
  ASSERT_EQ(test::write_sample_journal_then_crash(test::small_options(pristine.path()), 1, 1500),
            0);
  constexpr int kIterations = 150;
  int clean = 0, torn = 0, corrupt = 0;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    TempJournalDir dir("fuzz");
    std::filesystem::copy(pristine.path(), dir.path(), std::filesystem::copy_options::recursive);
    std::mt19937_64 rng(static_cast<uint64_t>(iteration) * 7919 + 1);
    std::string what;
    const int mutations = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < mutations; ++m) what += mutate(dir.path(), rng) + "; ";
    SCOPED_TRACE("iteration " + std::to_string(iteration) + ": " + what);

    absl::StatusOr<VerifyReport> report = verify_journal(dir.path());
    ASSERT_TRUE(report.ok()) << report.status();
    {
      // The reader never crashes; on a clean journal it reads every record without error.
      auto reader = JournalReader::open(dir.path());
      ASSERT_TRUE(reader.ok()) << reader.status();
      RecordView view;
      uint64_t records = 0;
      while ((*reader)->next(view)) ++records;
      if (report->clean()) {
        EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status() << report->to_text();
        EXPECT_EQ(records, report->records);
      }
    }

    absl::StatusOr<RecoveryResult> recovered = recover_journal(dir.path());
    if (report->damage.kind == DamageKind::kCorruption) {
      ++corrupt;
      ASSERT_FALSE(recovered.ok()) << report->to_text();
      EXPECT_EQ(recovered.status().code(), absl::StatusCode::kDataLoss);
      continue;
    }
    if (report->clean()) {
      ++clean;
    } else {
      ++torn;
    }
    ASSERT_TRUE(recovered.ok()) << recovered.status() << "\n" << report->to_text();
    absl::StatusOr<VerifyReport> after = verify_journal(dir.path());
    ASSERT_TRUE(after.ok());
    ASSERT_TRUE(after->clean()) << after->to_text();

    // Dense from the journal's first sequence to the recovered last one.
    auto reader = JournalReader::open(dir.path());
    ASSERT_TRUE(reader.ok());
    RecordView view;
    uint64_t expected = after->first_sequence;
    while ((*reader)->next(view)) ASSERT_EQ(view.sequence, expected++);
    EXPECT_TRUE((*reader)->status().ok());
    if (after->records > 0) {
      EXPECT_EQ(expected - 1, recovered->last_sequence);
    }

    // And the writer continues it.
    auto writer = JournalWriter::open(test::small_options(dir.path()), recovered->next_sequence());
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (uint64_t s = recovered->next_sequence(); s < recovered->next_sequence() + 5; ++s) {
      ASSERT_TRUE((*writer)->append(test::sample_entry(s)).ok());
    }
    ASSERT_TRUE((*writer)->close().ok());
    absl::StatusOr<VerifyReport> continued = verify_journal(dir.path());
    ASSERT_TRUE(continued.ok());
    EXPECT_TRUE(continued->clean()) << continued->to_text();
  }
  // The mutations reach all three verdicts (seeds are fixed, so this is deterministic).
  EXPECT_GT(clean, 0);
  EXPECT_GT(torn, 0);
  EXPECT_GT(corrupt, 0);
  std::printf("verdicts over %d damaged journals: clean %d, torn tail %d, corruption %d\n",
              kIterations, clean, torn, corrupt);
}

}  // namespace
}  // namespace qt::persist
