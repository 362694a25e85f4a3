// The journal on a failing disk (issue 11), through the file-I/O seam (JournalOptions::file_io):
// ENOSPC and EIO on write and on fdatasync, and a full disk when the next segment is made. The
// writer and its agent fail for good and say why (errno, operation, file); the durable sequence
// stops where it was; what was durable before is intact when the journal is opened again.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>

#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "tests/persist/faulty_file_io.hpp"
#include "tests/persist/journal_test_support.hpp"
#include "tests/persist/sample_records.hpp"

namespace qt::persist {
namespace {

using test::FaultyFileIo;
using test::TempJournalDir;
using Call = FaultyFileIo::Call;

// Records [1, durable] are the samples, in order, and nothing before them is missing; records
// after `durable` may follow (written but never made durable): they must be samples too.
// Returns the last sequence found.
uint64_t expect_samples_from_one_through(const std::filesystem::path& dir, uint64_t durable) {
  absl::StatusOr<RecoveryResult> recovered = recover_journal(dir);
  EXPECT_TRUE(recovered.ok()) << recovered.status();
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(dir);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return 0;
  RecordView view;
  uint64_t expected = 1;
  while ((*reader)->next(view)) {
    EXPECT_EQ(view.sequence, expected);
    const JournalEntry want = test::sample_entry(expected);
    EXPECT_EQ(view.type, want.type) << expected;
    EXPECT_EQ(view.payload.size(), want.size) << expected;
    EXPECT_EQ(std::memcmp(view.payload.data(), want.payload.data(), want.size), 0) << expected;
    ++expected;
  }
  EXPECT_TRUE((*reader)->status().ok()) << (*reader)->status();
  EXPECT_GE(expected - 1, durable) << "a record that was durable is gone";
  return expected - 1;
}

// Drives the agent by hand until it has nothing more to do.
void run_agent(JournalAgent& agent) {
  for (int i = 0; i < 100 && agent.do_work() != 0; ++i) {
  }
}

class JournalFault : public ::testing::TestWithParam<std::tuple<Call, int>> {};

TEST_P(JournalFault, FailsForGoodSayingWhyAndKeepsWhatWasDurable) {
  const auto [call, error] = GetParam();
  TempJournalDir dir("fault");
  FaultyFileIo io;
  JournalOptions options = test::small_options(dir.path(), Durability::kGroup, 1 << 20);
  options.file_io = &io;
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto ring = std::make_unique<JournalRing>();
  JournalAgent agent(**writer, *ring);
  agent.on_start();

  for (uint64_t s = 1; s <= 100; ++s) ASSERT_TRUE(ring->try_push(test::sample_entry(s)));
  run_agent(agent);
  ASSERT_EQ(agent.durable_sequence().load(), 100u);
  ASSERT_FALSE(agent.failed());
  ASSERT_EQ(agent.failure(), nullptr);

  io.fail(call, error);
  for (uint64_t s = 101; s <= 110; ++s) ASSERT_TRUE(ring->try_push(test::sample_entry(s)));
  run_agent(agent);

  EXPECT_TRUE(agent.failed());
  EXPECT_TRUE(agent.failed_flag().load());
  EXPECT_TRUE((*writer)->failed());
  EXPECT_GE(io.failures(call), 1u);
  EXPECT_EQ(agent.durable_sequence().load(), 100u) << "nothing after the failure is durable";
  const JournalFailure* failure = agent.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, error);
  EXPECT_EQ(failure->operation, call == Call::kWrite ? "write" : "fdatasync");
  EXPECT_EQ(failure->path.parent_path(), dir.path()) << failure->path;
  EXPECT_EQ(failure->path.extension(), ".qtj") << "the active segment: " << failure->path;
  const std::string text = describe(*failure);
  EXPECT_NE(text.find(error == ENOSPC ? "ENOSPC" : "EIO"), std::string::npos) << text;
  EXPECT_NE(text.find(failure->path.filename().string()), std::string::npos) << text;

  // For good: later records are not taken, even once the disk is fine again.
  io.heal();
  ASSERT_TRUE(ring->try_push(test::sample_entry(111)));
  run_agent(agent);
  EXPECT_EQ(agent.durable_sequence().load(), 100u);
  EXPECT_FALSE(ring->empty_approx());
  agent.on_close();
  writer->reset();

  const uint64_t last = expect_samples_from_one_through(dir.path(), 100);
  // A failed write put none of its records in the file; after a failed fdatasync they may be
  // there, but were never acknowledged.
  if (call == Call::kWrite) {
    EXPECT_EQ(last, 100u);
  }
  EXPECT_LE(last, 110u);
}

INSTANTIATE_TEST_SUITE_P(WriteAndFdatasync, JournalFault,
                         ::testing::Combine(::testing::Values(Call::kWrite, Call::kFdatasync),
                                            ::testing::Values(ENOSPC, EIO)),
                         [](const ::testing::TestParamInfo<std::tuple<Call, int>>& info) {
                           return std::string(test::name_of(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) == ENOSPC ? "_ENOSPC" : "_EIO");
                         });

TEST(JournalOnAFailingDisk, StatusCodeTellsAFullDiskFromABrokenOne) {
  for (const int error : {ENOSPC, EIO}) {
    TempJournalDir dir("fault_code");
    FaultyFileIo io;
    JournalOptions options = test::small_options(dir.path(), Durability::kSync, 1 << 20);
    options.file_io = &io;
    auto writer = JournalWriter::open(options, 1);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->append(test::sample_entry(1)).ok());
    io.fail(Call::kFdatasync, error);
    const absl::Status status = (*writer)->commit();
    EXPECT_EQ(status.code(), error == ENOSPC ? absl::StatusCode::kResourceExhausted
                                             : absl::StatusCode::kUnavailable)
        << status;
    EXPECT_TRUE((*writer)->failed());
    EXPECT_FALSE((*writer)->append(test::sample_entry(2)).ok());
  }
}

// Even async mode, which never syncs, fails loudly when the disk is full: the next segment
// cannot be preallocated once the ones prepared ahead are used up.
TEST(JournalOnAFailingDisk, AsyncModeFailsWhenTheNextSegmentCannotBePreallocated) {
  TempJournalDir dir("fault_async");
  FaultyFileIo io;
  JournalOptions options = test::small_options(dir.path(), Durability::kAsync);  // 64 KiB
  options.file_io = &io;
  auto writer = JournalWriter::open(options, 1);
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto ring = std::make_unique<JournalRing>();
  JournalAgent agent(**writer, *ring);
  io.fail(Call::kFallocate, ENOSPC);
  uint64_t pushed = 0;
  // 64 KiB segments of ~100-byte records: a few thousand records need more segments than the
  // preparer made before the disk filled.
  for (int round = 0; round < 40 && !agent.failed(); ++round) {
    for (int i = 0; i < 256; ++i) ASSERT_TRUE(ring->try_push(test::sample_entry(++pushed)));
    run_agent(agent);
  }
  ASSERT_TRUE(agent.failed()) << "records appended: " << (*writer)->stats().records.load();
  const JournalFailure* failure = agent.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->error, ENOSPC);
  EXPECT_EQ(failure->operation, "preallocate segment file");
  const uint64_t durable = agent.durable_sequence().load();
  EXPECT_GT(durable, 0u);
  EXPECT_LT(durable, pushed);
  agent.on_close();
  writer->reset();
  io.heal();
  expect_samples_from_one_through(dir.path(), durable);
}

}  // namespace
}  // namespace qt::persist
