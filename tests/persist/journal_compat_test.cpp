// Journals written before issue 10 moved journaling out of engine/ stay readable byte for byte:
// every record of the fixture journal (tests/persist/fixtures/journal-cb430ee) decodes into an
// EngineEvent that encodes back to exactly the bytes on disk.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "persist/engine_journal.hpp"
#include "persist/journal_reader.hpp"
#include "persist/records.hpp"

namespace qt::persist {
namespace {

const std::filesystem::path kFixture = QT_JOURNAL_FIXTURE_DIR "/journal";

TEST(JournalCompat, EveryRecordOfAPreIssue10JournalDecodesAndEncodesToTheSameBytes) {
  absl::StatusOr<std::unique_ptr<JournalReader>> reader = JournalReader::open(kFixture);
  ASSERT_TRUE(reader.ok()) << reader.status();
  RecordView record;
  std::map<RecordType, int> seen;
  uint64_t expected_sequence = 1;
  while ((*reader)->next(record)) {
    SCOPED_TRACE("record " + std::to_string(record.sequence));
    ASSERT_EQ(record.sequence, expected_sequence++);
    absl::StatusOr<EngineEvent> event =
        decode_event(record.sequence, record.timestamp_ns, record.type, record.payload);
    ASSERT_TRUE(event.ok()) << event.status();
    const JournalEntry again = encode_event(*event);
    EXPECT_EQ(again.type, record.type);
    EXPECT_EQ(again.sequence, record.sequence);
    EXPECT_EQ(again.timestamp_ns, record.timestamp_ns);
    ASSERT_EQ(again.size, record.payload.size());
    EXPECT_EQ(std::memcmp(again.payload.data(), record.payload.data(), again.size), 0);
    ++seen[record.record_type()];
  }
  ASSERT_TRUE((*reader)->status().ok()) << (*reader)->status();
  EXPECT_EQ(expected_sequence - 1, 115u);
  // The fixture holds every kind the engine wrote then.
  EXPECT_EQ(seen[RecordType::kEngineStarted], 1);
  EXPECT_EQ(seen[RecordType::kOrderReceived], 28);
  EXPECT_EQ(seen[RecordType::kSentToVenue], 29);
  EXPECT_EQ(seen[RecordType::kVenueEvent], 56);
  EXPECT_EQ(seen[RecordType::kCancelRequested], 1);
}

}  // namespace
}  // namespace qt::persist
