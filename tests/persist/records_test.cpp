// Journal entries and record payloads: the 128-byte entry, payload round trips, type names and
// the JSON the dump prints.
#include "persist/records.hpp"

#include <gtest/gtest.h>

#include "persist/journal_entry.hpp"
#include "tests/persist/journal_test_support.hpp"

namespace qt::persist {
namespace {

TEST(JournalEntry, IsTwoCacheLinesAndCarriesHeaderAndPayload) {
  static_assert(sizeof(JournalEntry) == 128);
  OrderReceivedRecord r{};
  r.order.client_order_id = ClientOrderId::from("ABC-1");
  r.order.limit_price = 230'050;
  r.order.size = 150;
  r.order_id = 42;
  const JournalEntry e = make_entry(RecordType::kOrderReceived, 7, 123, r);
  EXPECT_EQ(e.sequence, 7u);
  EXPECT_EQ(e.timestamp_ns, 123);
  EXPECT_EQ(e.record_type(), RecordType::kOrderReceived);
  EXPECT_EQ(e.size, sizeof(OrderReceivedRecord));
  const auto back = payload_as<OrderReceivedRecord>(e);
  EXPECT_EQ(back.order_id, 42u);
  EXPECT_EQ(back.order.client_order_id.view(), "ABC-1");
  EXPECT_EQ(back.order.limit_price, 230'050);
  EXPECT_EQ(back.order.size, 150);
}

TEST(JournalEntry, ShorterPayloadReadsTheMissingTailAsZero) {
  const std::byte bytes[4] = {std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};
  const auto r = payload_as<EngineStartedRecord>(bytes, sizeof bytes);
  EXPECT_EQ(r.epoch_ns, 1);
  EXPECT_EQ(r.recovered_through_sequence, 0u);
  EXPECT_EQ(r.format_version, 0u);
}

TEST(RecordType, NamesRoundTrip) {
  for (RecordType type : test::kEngineTypes) {
    EXPECT_EQ(record_type_from_name(record_type_name(type)), type);
  }
  EXPECT_EQ(record_type_name(RecordType::kSegmentSeal), "segment_seal");
  EXPECT_EQ(record_type_name(static_cast<RecordType>(77)), "unknown");
  EXPECT_EQ(record_type_from_name("no_such_type"), RecordType::kInvalid);
}

TEST(RecordPayloadJson, OrderReceivedShowsRawUnitsAndEnumNames) {
  OrderReceivedRecord r{};
  r.order.client_order_id = ClientOrderId::from("ABC-1");
  r.order.source = 2;
  r.order.instrument = 1;
  r.order.side = Side::kSell;
  r.order.type = OrderType::kLimit;
  r.order.limit_price = 230'050;
  r.order.size = 150;
  r.order.created_ns = 99;
  r.order_id = 42;
  const JournalEntry e = make_entry(RecordType::kOrderReceived, 1, 0, r);
  EXPECT_EQ(record_payload_json(e.type, {e.payload.data(), e.size}),
            R"({"order_id":42,"client_order_id":"ABC-1","source":2,"instrument":1,)"
            R"("side":"sell","order_type":"limit","time_in_force":"good_till_cancel",)"
            R"("limit_price":230050,"size":150,"created_ns":99})");
  EXPECT_EQ(record_order_id(e.type, {e.payload.data(), e.size}), 42u);
}

TEST(RecordPayloadJson, VenueFillShowsPriceSizeAndDealId) {
  VenueEventRecord r{};
  r.event.kind = VenueEventKind::kFill;
  r.event.order_id = 9;
  r.event.fill_price = 108'512;
  r.event.fill_size = 1000;
  std::snprintf(r.event.venue_order_id.data(), r.event.venue_order_id.size(), "deal-\"x\"");
  const JournalEntry e = make_entry(RecordType::kVenueEvent, 1, 0, r);
  EXPECT_EQ(record_payload_json(e.type, {e.payload.data(), e.size}),
            R"({"kind":"fill","order_id":9,"reason":"none","fill_price":108512,)"
            R"("fill_size":1000,"venue_order_id":"deal-\"x\"","created_ns":0})");
}

TEST(RecordPayloadJson, UnknownEnumValuePrintsItsNumber) {
  ControlRecord r{};
  r.command.kind = static_cast<ControlKind>(9);
  const JournalEntry e = make_entry(RecordType::kControl, 1, 0, r);
  EXPECT_EQ(record_payload_json(e.type, {e.payload.data(), e.size}),
            R"({"kind":9,"trading_state":"active","source":0,"created_ns":0})");
}

TEST(RecordPayloadJson, WrongSizeOrUnknownTypeIsShownRaw) {
  const std::byte bytes[3] = {std::byte{0xAB}, std::byte{0x00}, std::byte{0x7F}};
  EXPECT_EQ(record_payload_json(static_cast<uint16_t>(RecordType::kControl), bytes),
            R"({"raw_hex":"ab007f","size":3})");
  EXPECT_EQ(record_payload_json(500, bytes), R"({"raw_hex":"ab007f","size":3})");
}

TEST(RecordPayloadJson, ControlCharactersInIdsAreEscaped) {
  OrderRejectedRecord r{};
  r.client_order_id = ClientOrderId::from("a\nb\x01\xff");
  r.reason = RejectReason::kKillSwitch;
  const JournalEntry e = make_entry(RecordType::kOrderRejected, 1, 0, r);
  EXPECT_EQ(record_payload_json(e.type, {e.payload.data(), e.size}),
            R"({"order_id":0,"client_order_id":"a\nb\u0001\u00ff","source":0,)"
            R"("reason":"kill_switch"})");
}

TEST(RecordPayloadJson, EveryEngineRecordTypeRendersAnObject) {
  for (uint64_t s = 1; s <= 8; ++s) {
    const JournalEntry e = test::sample_entry(s);
    const std::string json = record_payload_json(e.type, {e.payload.data(), e.size});
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.back(), '}');
    EXPECT_EQ(json.find("raw_hex"), std::string::npos) << record_type_name(e.record_type());
  }
}

}  // namespace
}  // namespace qt::persist
