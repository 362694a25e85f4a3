// Snapshots (issue 4, "Snapshots"): the file round-trips a real engine state exactly, the digest
// tells states apart, every kind of damage is refused with its reason and the previous snapshot
// is used, and recovery from a snapshot plus the journal tail rebuilds the same state as a
// replay of the whole journal — or refuses clearly when the two do not fit together.
#include "persist/snapshot.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

#include "persist/crc32c.hpp"
#include "persist/data_dir.hpp"
#include "persist/engine_recovery.hpp"
#include "tests/persist/snapshot_test_support.hpp"

namespace qt::persist::test {
namespace {

std::filesystem::path snapshot_path(const std::filesystem::path& data_dir, uint64_t sequence) {
  return snapshots_dir(data_dir) / snapshot_file_name(sequence);
}

// Rewrites the trailing CRC after a deliberate edit, so that only the edit is "wrong".
void fix_crc(const std::filesystem::path& path) {
  std::string bytes = read_file(path);
  const uint32_t crc = crc32c(bytes.data(), bytes.size() - 4);
  std::string tail(4, '\0');
  std::memcpy(tail.data(), &crc, 4);
  write_bytes(path, bytes.size() - 4, tail);
}

class SnapshotTest : public ::testing::Test {
 protected:
  TempJournalDir dir_{"snapshot"};
  const std::filesystem::path& data() const { return dir_.path(); }
};

TEST_F(SnapshotTest, ARealEngineStateRoundTripsExactly) {
  DiskJournaledEngine live(data());
  live.drive(40);
  live.control(ControlKind::kSetTradingState, TradingState::kReducing);
  EngineState state = live.engine().capture_state();
  state.kill_switch = true;  // engaging it for real would cancel the live orders
  ASSERT_GT(state.orders.size(), 80u);
  state.orders[5].cancel_wanted = true;  // the flag byte (issue 11) travels too
  state.orders[6].venue_id_is_reference = true;
  // The broker's deals the journal owns (issue 11): a paper venue reports none, so made here.
  OwnedDeal opened;
  std::memcpy(opened.deal_id.data(), "006011e7-0001-54c4-0000-000080560045", 36);
  opened.epoch_ms = 1'765'000'000'123;
  opened.order_id = state.orders[7].id;
  opened.instrument = kGold;
  opened.side = Side::kSell;
  opened.opened = true;
  OwnedDeal netted;  // a working order's netting fill: ids not known
  netted.epoch_ms = 1'765'000'000'456;
  netted.order_id = state.orders[8].id;
  netted.instrument = 1;
  state.owned_deals = {opened, netted};
  state.owned_deals_complete_since_epoch_ms = 1'764'999'000'000;
  ASSERT_EQ(state.trading_state, TradingState::kReducing);
  ASSERT_NE(state.positions[kGold].net_size(), 0);
  ASSERT_NE(state.positions[kGold].realized_pnl(), 0);
  ASSERT_TRUE(state.kill_switch);
  std::size_t live_orders = 0;
  for (const Order& order : state.orders) live_orders += order.is_live() ? 1 : 0;
  ASSERT_GT(live_orders, 0u);

  ASSERT_TRUE(write_snapshot(data(), state, live.instruments()).ok());
  const std::filesystem::path path = snapshot_path(data(), state.journal_sequence);
  ASSERT_TRUE(std::filesystem::exists(path));

  absl::StatusOr<EngineState> read = read_snapshot(path, live.instruments());
  ASSERT_TRUE(read.ok()) << read.status();
  expect_same_orders_and_positions(state, *read);
  EXPECT_EQ(read->owned_deals, state.owned_deals);
  EXPECT_EQ(read->owned_deals_complete_since_epoch_ms, 1'764'999'000'000);
  // The marks travel too: unrealized P&L is the same.
  for (std::size_t i = 0; i < state.positions.size(); ++i) {
    EXPECT_EQ(state.positions[i].unrealized_pnl(live.instruments()[i]),
              read->positions[i].unrealized_pnl(live.instruments()[i]));
  }
  EXPECT_EQ(state_digest(state), state_digest(*read));

  absl::StatusOr<DecodedSnapshot> decoded = decode_snapshot_file(path);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->info.format_version, kSnapshotFormatVersion);
  EXPECT_EQ(decoded->info.order_count, state.orders.size());
  EXPECT_EQ(decoded->info.live_orders, live_orders);
  ASSERT_EQ(decoded->info.instruments.size(), 2u);
  EXPECT_EQ(decoded->info.instruments[1].name(), "EURUSD");
  EXPECT_EQ(decoded->info.instruments[1].price_decimals, 5);
  // Fixed-size records: header 72 + 2 * (80 + 64 + 16) + 152 per order + owned deals 16 + 64
  // each + CRC 4.
  EXPECT_EQ(decoded->info.file_size, 72 + 2 * 160 + 152 * state.orders.size() + 16 + 2 * 64 + 4);

  // A restored engine captures exactly what it was given.
  FreshEngine fresh;
  ASSERT_TRUE(fresh.engine->restore_state(*read).ok());
  EXPECT_EQ(state_digest(fresh.engine->capture_state()), state_digest(state));
}

// Issue 11: the book is nobody else's business. Every file the journal and the snapshots put in
// the data directory is 0640 and every directory 0750 (owner writes, a backup group may read),
// not the 0644/0755 they were.
TEST_F(SnapshotTest, EveryFileAndDirectoryInTheDataDirectoryIsOwnerAndGroupOnly) {
  const mode_t previous = ::umask(022);  // the usual umask: it must not be what makes it private
  DiskJournaledEngine live(data());
  live.drive(10);
  const EngineState state = live.engine().capture_state();
  ASSERT_TRUE(write_snapshot(data(), state, live.instruments()).ok());
  ::umask(previous);
  int files = 0;
  bool saw_snapshot = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data())) {
    struct stat info {};
    ASSERT_EQ(::stat(entry.path().c_str(), &info), 0) << entry.path();
    if (entry.is_directory()) {
      EXPECT_EQ(info.st_mode & 0777, 0750u) << entry.path();  // journal/, snapshots/
      continue;
    }
    EXPECT_EQ(info.st_mode & 0777, 0640u) << entry.path();
    saw_snapshot |= entry.path().extension() == ".qts";
    ++files;
  }
  EXPECT_TRUE(saw_snapshot);
  EXPECT_GE(files, 2);  // the snapshot and at least one journal segment
}

// A version 1 snapshot (before owned deals) is still read: the same state, with no owned deals,
// the list complete only from the snapshot's own time on.
TEST_F(SnapshotTest, AVersion1SnapshotIsReadWithItsOwnedDealsCompleteFromItsTime) {
  DiskJournaledEngine live(data());
  live.drive(12);
  const EngineState state = live.engine().capture_state();
  ASSERT_TRUE(state.owned_deals.empty());
  ASSERT_TRUE(write_snapshot(data(), state, live.instruments()).ok());
  const std::filesystem::path path = snapshot_path(data(), state.journal_sequence);
  std::string bytes = read_file(path);
  // Version 1 = version 2 without the 16-byte owned-deals header (count 0) before the CRC.
  bytes.erase(bytes.size() - 4 - 16, 16);
  const uint32_t version = 1;
  std::memcpy(bytes.data() + 8, &version, 4);
  const uint32_t crc = crc32c(bytes.data(), bytes.size() - 4);
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  std::filesystem::remove(path);
  write_bytes(path, 0, bytes);
  absl::StatusOr<DecodedSnapshot> decoded = decode_snapshot_file(path);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->info.format_version, 1u);
  expect_same_orders_and_positions(state, decoded->state);
  EXPECT_TRUE(decoded->state.owned_deals.empty());
  EXPECT_EQ(decoded->state.owned_deals_complete_since_epoch_ms,
            decoded->info.written_unix_ns / 1'000'000);
}

TEST_F(SnapshotTest, TheDigestSeesEveryFieldThatMattersAndIgnoresQuoteMarks) {
  DiskJournaledEngine live(data());
  live.drive(12);
  const EngineState state = live.engine().capture_state();
  const uint64_t digest = state_digest(state);
  EXPECT_EQ(digest, state_digest(EngineState(state)));

  auto differs = [&](const char* what, auto&& edit) {
    EngineState changed = state;
    edit(changed);
    EXPECT_NE(state_digest(changed), digest) << what;
  };
  differs("journal sequence", [](EngineState& s) { ++s.journal_sequence; });
  differs("last order id", [](EngineState& s) { ++s.last_order_id; });
  differs("kill switch", [](EngineState& s) { s.kill_switch = !s.kill_switch; });
  differs("trading state", [](EngineState& s) { s.trading_state = TradingState::kHalted; });
  differs("an order's state", [](EngineState& s) { s.orders[3].state = OrderState::kCanceled; });
  differs("an owned deal", [](EngineState& s) { s.owned_deals.push_back(OwnedDeal{}); });
  differs("an order's fill value", [](EngineState& s) { s.orders[0].filled_value += 1; });
  differs("an order's wanted cancel", [](EngineState& s) { s.orders[3].cancel_wanted = true; });
  differs("an order's venue id kind",
          [](EngineState& s) { s.orders[3].venue_id_is_reference = true; });
  differs("an order's venue id", [](EngineState& s) { s.orders[1].venue_order_id[0] ^= 1; });
  differs("an order's client id", [](EngineState& s) { s.orders[2].client_order_id.chars[0]++; });
  differs("an order removed", [](EngineState& s) { s.orders.pop_back(); });
  differs("open buy size", [](EngineState& s) { s.open_buy_size[kGold] += 10; });
  differs("a position", [&](EngineState& s) {
    s.positions[kGold].apply_fill(live.instruments()[kGold], Side::kBuy, 230'000, 10);
  });

  EngineState remarked = state;
  remarked.positions[kGold].mark(1, 2);
  EXPECT_EQ(state_digest(remarked), digest) << "marks come from quotes, not the journal";
}

struct Damage {
  const char* name;
  const char* reason;  // expected in the refusal
  void (*apply)(const std::filesystem::path& path, const std::vector<InstrumentSpec>& table);
};

class DamagedSnapshotTest : public SnapshotTest, public ::testing::WithParamInterface<Damage> {};

TEST_P(DamagedSnapshotTest, IsRefusedWithItsReasonAndThePreviousSnapshotIsUsed) {
  DiskJournaledEngine live(data());
  live.drive(10);
  // Snapshots hold replayed states, as the snapshotter's are (see same_clock in the support).
  const EngineState older = replayed_state(data(), live.last_sequence());
  ASSERT_TRUE(write_snapshot(data(), older, live.instruments()).ok());
  live.drive(10);
  const EngineState newer = replayed_state(data(), live.last_sequence());
  ASSERT_TRUE(write_snapshot(data(), newer, live.instruments()).ok());
  const std::filesystem::path newest = snapshot_path(data(), newer.journal_sequence);

  GetParam().apply(newest, live.instruments());

  absl::StatusOr<EngineState> direct = read_snapshot(newest, live.instruments());
  ASSERT_FALSE(direct.ok());
  const std::string message(direct.status().message());
  EXPECT_NE(message.find(newest.string()), std::string::npos) << message;
  EXPECT_NE(message.find(GetParam().reason), std::string::npos) << message;

  absl::StatusOr<std::optional<LoadedSnapshot>> loaded =
      load_newest_valid_snapshot(data(), live.instruments());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->sequence, older.journal_sequence);
  EXPECT_EQ(state_digest((*loaded)->state), state_digest(older));
  ASSERT_EQ((*loaded)->skipped.size(), 1u);
  EXPECT_EQ((*loaded)->skipped[0].path, newest);
  EXPECT_NE((*loaded)->skipped[0].reason.find(GetParam().reason), std::string::npos);

  // Start-up recovery goes on from the older snapshot and still ends in the live state.
  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->snapshot_sequence, older.journal_sequence);
  EXPECT_EQ(recovered->records_replayed, newer.journal_sequence - older.journal_sequence);
  ASSERT_EQ(recovered->skipped_snapshots.size(), 1u);
  EXPECT_EQ(state_digest(fresh.engine->capture_state()), state_digest(newer));
}

INSTANTIATE_TEST_SUITE_P(
    Damage, DamagedSnapshotTest,
    ::testing::Values(
        Damage{"flipped_byte_in_an_order", "CRC mismatch",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 flip_byte(path, 72 + 2 * 160 + 152 * 3 + 50);
               }},
        Damage{"flipped_byte_in_the_header", "CRC mismatch",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 flip_byte(path, 20);
               }},
        Damage{"truncated", "truncated",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 truncate_file(path, std::filesystem::file_size(path) - 200);
               }},
        Damage{"truncated_to_a_few_bytes", "truncated",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 truncate_file(path, 30);
               }},
        Damage{"empty", "truncated",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 truncate_file(path, 0);
               }},
        Damage{"not_a_snapshot", "bad magic",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 write_bytes(path, 0, "NOTASNAP");
               }},
        Damage{"another_format_version", "format version 3, this build reads versions 1 to 2",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 const uint32_t version = 3;
                 write_bytes(path, 8, std::string(reinterpret_cast<const char*>(&version), 4));
                 fix_crc(path);
               }},
        Damage{"impossible_order_state", "impossible instrument 0 or enum value",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>&) {
                 write_bytes(path, 72 + 2 * 160 + 39, std::string(1, '\x09'));
                 fix_crc(path);
               }},
        Damage{"another_instrument_table", "another instrument table: instrument 1",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>& table) {
                 absl::StatusOr<DecodedSnapshot> decoded = decode_snapshot_file(path);
                 ASSERT_TRUE(decoded.ok());
                 std::vector<InstrumentSpec> other = table;
                 other[1] = make_instrument(1, "EURUSD", 4, 0, 0.0001, 100, 100, 10'000'000);
                 absl::StatusOr<std::string> bytes = encode_snapshot(decoded->state, other);
                 ASSERT_TRUE(bytes.ok());
                 std::filesystem::remove(path);
                 write_new_file(path, *bytes);
               }},
        Damage{"fewer_instruments",
               "the snapshot has 1 instruments (GOLD), this configuration 2 (GOLD, EURUSD)",
               [](const std::filesystem::path& path, const std::vector<InstrumentSpec>& table) {
                 absl::StatusOr<DecodedSnapshot> decoded = decode_snapshot_file(path);
                 ASSERT_TRUE(decoded.ok());
                 EngineState state = decoded->state;
                 state.positions.resize(1);
                 state.open_buy_size.resize(1);
                 state.open_sell_size.resize(1);
                 std::erase_if(state.orders, [](const Order& o) { return o.instrument != 0; });
                 absl::StatusOr<std::string> bytes =
                     encode_snapshot(state, std::span(table).first(1));
                 ASSERT_TRUE(bytes.ok());
                 std::filesystem::remove(path);
                 write_new_file(path, *bytes);
               }}),
    [](const ::testing::TestParamInfo<Damage>& info) { return std::string(info.param.name); });

TEST_F(SnapshotTest, EveryDamagedSnapshotMeansNoneAndTheWholeJournalIsReplayed) {
  DiskJournaledEngine live(data());
  live.drive(15);
  const EngineState state = replayed_state(data(), live.last_sequence());
  ASSERT_TRUE(write_snapshot(data(), state, live.instruments()).ok());
  flip_byte(snapshot_path(data(), state.journal_sequence), 100);

  std::vector<SkippedSnapshot> skipped;
  absl::StatusOr<std::optional<LoadedSnapshot>> loaded =
      load_newest_valid_snapshot(data(), live.instruments(), &skipped);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
  ASSERT_EQ(skipped.size(), 1u);

  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(recovered->snapshot.empty());
  EXPECT_EQ(recovered->records_replayed, state.journal_sequence);
  EXPECT_EQ(state_digest(fresh.engine->capture_state()), state_digest(state));
}

TEST_F(SnapshotTest, SnapshotPlusTailGivesTheSameStateAsReplayingTheWholeJournal) {
  DiskJournaledEngine live(data());
  live.drive(30);
  const uint64_t snapshot_sequence = live.last_sequence();
  ASSERT_TRUE(
      write_snapshot(data(), replayed_state(data(), snapshot_sequence), live.instruments()).ok());
  live.drive(30);
  live.control(ControlKind::kKillSwitch);
  live.drive(3);  // refused by the kill switch, journaled all the same
  const EngineState end = live.engine().capture_state();
  live.close();
  ASSERT_GE(segment_files(journal_dir(data())).size(), 2u) << "want a tail across segments";

  FreshEngine from_snapshot;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*from_snapshot.engine, data(), live.instruments());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->snapshot, snapshot_path(data(), snapshot_sequence));
  EXPECT_EQ(recovered->snapshot_sequence, snapshot_sequence);
  EXPECT_EQ(recovered->first_replayed_sequence, snapshot_sequence + 1);
  EXPECT_EQ(recovered->records_replayed, end.journal_sequence - snapshot_sequence);
  EXPECT_EQ(recovered->last_sequence, end.journal_sequence);

  FreshEngine from_scratch;
  RecoveryOptions whole;
  whole.use_snapshots = false;
  absl::StatusOr<RecoveredState> replayed =
      recover_engine_state(*from_scratch.engine, data(), live.instruments(), whole);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_TRUE(replayed->snapshot.empty());
  EXPECT_EQ(replayed->records_replayed, end.journal_sequence);

  const EngineState a = from_snapshot.engine->capture_state();
  const EngineState b = from_scratch.engine->capture_state();
  expect_same_orders_and_positions(a, b);
  EXPECT_EQ(state_digest(a), state_digest(b));
  expect_same_orders_and_positions(a, end, /*same_clock=*/false);
  EXPECT_TRUE(a.kill_switch);
}

TEST_F(SnapshotTest, RecoveryStopsAtTheDurableLimitWhenAskedTo) {
  DiskJournaledEngine live(data());
  live.drive(10);
  const EngineState middle = live.engine().capture_state();
  live.drive(10);

  FreshEngine fresh;
  RecoveryOptions limited;
  limited.up_to_sequence = middle.journal_sequence;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments(), limited);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->last_sequence, middle.journal_sequence);
  expect_same_orders_and_positions(fresh.engine->capture_state(), middle, /*same_clock=*/false);
}

TEST_F(SnapshotTest, ASnapshotBeyondTheJournalsEndIsRefused) {
  DiskJournaledEngine live(data());
  live.drive(10);
  EngineState state = live.engine().capture_state();
  live.close();
  state.journal_sequence += 500;  // as if the journal had lost its last 500 records
  ASSERT_TRUE(write_snapshot(data(), state, live.instruments()).ok());

  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments());
  ASSERT_FALSE(recovered.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(recovered.status())) << recovered.status();
  const std::string message(recovered.status().message());
  EXPECT_NE(
      message.find("covers the journal up to sequence " + std::to_string(state.journal_sequence)),
      std::string::npos)
      << message;
  EXPECT_NE(message.find("ends at sequence " + std::to_string(state.journal_sequence - 500)),
            std::string::npos)
      << message;
}

TEST_F(SnapshotTest, AJournalThatNoLongerReachesBackToTheSnapshotIsRefused) {
  DiskJournaledEngine live(data());
  live.drive(10);
  const EngineState early = live.engine().capture_state();
  live.drive(150);
  live.close();
  const std::vector<std::filesystem::path> segments = segment_files(journal_dir(data()));
  ASSERT_GE(segments.size(), 3u);
  ASSERT_TRUE(write_snapshot(data(), early, live.instruments()).ok());
  // The segment holding the records right after the snapshot is gone.
  std::filesystem::remove(segments[0]);

  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), live.instruments());
  ASSERT_FALSE(recovered.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(recovered.status())) << recovered.status();
  const std::string message(recovered.status().message());
  EXPECT_NE(message.find("covers only up to sequence " + std::to_string(early.journal_sequence)),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("are missing"), std::string::npos) << message;

  // Without a snapshot the journal must start at 1.
  std::filesystem::remove(snapshot_path(data(), early.journal_sequence));
  FreshEngine again;
  recovered = recover_engine_state(*again.engine, data(), live.instruments());
  ASSERT_FALSE(recovered.ok());
  EXPECT_NE(std::string(recovered.status().message()).find("no snapshot covers sequences 1.."),
            std::string::npos)
      << recovered.status();
}

TEST_F(SnapshotTest, RecoveryNeedsAFreshEngine) {
  DiskJournaledEngine live(data());
  live.drive(2);
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(live.engine(), data(), live.instruments());
  ASSERT_FALSE(recovered.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(recovered.status())) << recovered.status();
}

TEST_F(SnapshotTest, AnEmptyDataDirectoryRecoversToAnEmptyState) {
  FreshEngine fresh;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*fresh.engine, data(), rig_engine_options().instruments);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->records_replayed, 0u);
  EXPECT_EQ(recovered->last_sequence, 0u);
  EXPECT_TRUE(recovered->snapshot.empty());
}

TEST_F(SnapshotTest, OfflineReplayStopsAtATornTailAndSaysWhere) {
  DiskJournaledEngine live(data());
  live.drive(10);
  const EngineState state = live.engine().capture_state();
  // Crash-like: no close(); then tear the last record.
  const std::vector<RecordLocation> records = record_locations(journal_dir(data()));
  ASSERT_FALSE(records.empty());
  const RecordLocation& last = records.back();
  ASSERT_EQ(last.sequence, state.journal_sequence);
  flip_byte(last.segment, last.offset + 40);

  FreshEngine strict;
  absl::StatusOr<RecoveredState> refused =
      recover_engine_state(*strict.engine, data(), live.instruments());
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsDataLoss(refused.status())) << refused.status();

  FreshEngine offline;
  RecoveryOptions options;
  options.stop_at_torn_tail = true;
  absl::StatusOr<RecoveredState> recovered =
      recover_engine_state(*offline.engine, data(), live.instruments(), options);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(recovered->last_sequence, state.journal_sequence - 1);
  EXPECT_NE(recovered->stopped_at.find("torn tail in " + last.segment.string() + " at offset " +
                                       std::to_string(last.offset)),
            std::string::npos)
      << recovered->stopped_at;
}

}  // namespace
}  // namespace qt::persist::test
