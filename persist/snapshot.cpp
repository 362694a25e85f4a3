// Snapshot files; see snapshot.hpp and persist/FORMAT.md ("Snapshots") for the layout.
#include "persist/snapshot.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstring>
#include <system_error>
#include <type_traits>

#include "engine/clock.hpp"
#include "persist/atomic_file.hpp"
#include "persist/crc32c.hpp"
#include "persist/data_dir.hpp"

namespace qt::persist {
namespace {

// The format is little-endian by definition; the encoders copy native integers, so this build
// must be little-endian too (x86-64 and AArch64 Linux are).
static_assert(std::endian::native == std::endian::little);

constexpr char kMagic[8] = {'Q', 'T', 'S', 'N', 'A', 'P', 'S', 'H'};
constexpr std::size_t kHeaderSize = 72;
constexpr std::size_t kInstrumentRecordSize = 80;
constexpr std::size_t kPositionRecordSize = 64;
constexpr std::size_t kOpenSizeRecordSize = 16;
constexpr std::size_t kOrderRecordSize = 152;
constexpr std::size_t kCrcSize = 4;
constexpr std::size_t kOwnedDealsHeaderSize = 16;  // count, complete-since epoch ms (version 2)
constexpr std::size_t kOwnedDealRecordSize = 64;
constexpr uint8_t kOrderCancelWanted = 1;  // order record flags
constexpr uint8_t kOrderVenueIdIsReference = 2;

// The fixed-width text fields are part of the format: a change in the engine's capacities must
// come with a new format version.
static_assert(ClientOrderId::kCapacity == 24);
static_assert(VenueEvent::kVenueIdCapacity == 40);
static_assert(InstrumentSpec::kSymbolCapacity == 32);
static_assert(sizeof(Order::venue_order_id) == VenueEvent::kVenueIdCapacity);

// Position keeps its fields private; it is trivially copyable, so its bytes are read and written
// through this mirror of its layout. The assertions catch a field added or reordered there;
// snapshot_test's round trip of real positions checks the mapping field by field.
struct PositionFields {
  SizeUnits net_size;
  __int128 open_value;
  MoneyUnits realized_pnl;
  SizeUnits bought_size;
  SizeUnits sold_size;
  PriceUnits last_bid;
  PriceUnits last_ask;
};
static_assert(std::is_trivially_copyable_v<Position>);
static_assert(sizeof(PositionFields) == sizeof(Position));
static_assert(alignof(PositionFields) == alignof(Position));

// ---- Encoding: one set of field writers for the file and for the digest --------------------

class ByteSink {
 public:
  explicit ByteSink(std::string& out) : out_(out) {}
  void bytes(const void* data, std::size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }

 private:
  std::string& out_;
};

// FNV-1a, 64-bit: simple, stable across builds, and good enough to tell states apart in tests.
class DigestSink {
 public:
  void bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      hash_ ^= p[i];
      hash_ *= 0x100000001b3ull;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

template <typename Sink, typename Int>
void put(Sink& sink, Int value) {
  static_assert(std::is_integral_v<Int>);
  sink.bytes(&value, sizeof value);
}
template <typename Sink>
void put_i128(Sink& sink, __int128 value) {
  put(sink, static_cast<uint64_t>(static_cast<unsigned __int128>(value)));
  put(sink, static_cast<int64_t>(value >> 64));
}
template <typename Sink>
void put_zeros(Sink& sink, std::size_t count) {
  static constexpr char kZeros[16] = {};
  sink.bytes(kZeros, count);
}

template <typename Sink>
void put_instrument(Sink& sink, const InstrumentSpec& spec) {
  sink.bytes(spec.symbol.data(), spec.symbol.size());
  put(sink, spec.price_decimals);
  put(sink, spec.size_decimals);
  put_zeros(sink, 6);
  put(sink, spec.tick);
  put(sink, spec.min_size);
  put(sink, spec.size_increment);
  put(sink, spec.max_size);
  put(sink, spec.contract_multiplier);
}

template <typename Sink>
void put_position(Sink& sink, const Position& position, bool include_marks) {
  const auto fields = std::bit_cast<PositionFields>(position);
  put(sink, fields.net_size);
  put_i128(sink, fields.open_value);
  put(sink, fields.realized_pnl);
  put(sink, fields.bought_size);
  put(sink, fields.sold_size);
  put(sink, include_marks ? fields.last_bid : PriceUnits{0});
  put(sink, include_marks ? fields.last_ask : PriceUnits{0});
}

template <typename Sink>
void put_order(Sink& sink, const Order& order) {
  put(sink, order.id);
  sink.bytes(order.client_order_id.chars, ClientOrderId::kCapacity);
  put(sink, order.source);
  put(sink, order.instrument);
  put(sink, static_cast<uint8_t>(order.side));
  put(sink, static_cast<uint8_t>(order.type));
  put(sink, static_cast<uint8_t>(order.time_in_force));
  put(sink, static_cast<uint8_t>(order.state));
  put(sink, static_cast<uint8_t>(order.state_before_cancel));
  // Flags in the first of what were 7 reserved zero bytes, so a snapshot written before the flag
  // existed reads as "no flags", which is what it meant (bit 0: a cancel wanted while in doubt;
  // bit 1: the venue id is the request's reference, the order's own id not yet known).
  put(sink, static_cast<uint8_t>((order.cancel_wanted ? kOrderCancelWanted : 0) |
                                 (order.venue_id_is_reference ? kOrderVenueIdIsReference : 0)));
  put_zeros(sink, 6);
  put(sink, order.limit_price);
  put(sink, order.size);
  put(sink, order.filled_size);
  put(sink, order.average_fill_price);
  put_i128(sink, order.filled_value);
  put(sink, order.created_ns);
  put(sink, order.created_epoch_ms);
  sink.bytes(order.venue_order_id.data(), order.venue_order_id.size());
}

// Everything after the header: the part the file and the digest share.
template <typename Sink>
void put_state_body(Sink& sink, const EngineState& state, bool include_marks) {
  for (const Position& position : state.positions) put_position(sink, position, include_marks);
  for (std::size_t i = 0; i < state.positions.size(); ++i) {
    put(sink, state.open_buy_size[i]);
    put(sink, state.open_sell_size[i]);
  }
  for (const Order& order : state.orders) put_order(sink, order);
}

// Version 2: after the orders. In the digest only when there is something: a state without
// owned deals digests as it did before they existed (tests/persist/journal_compat_test.sh).
template <typename Sink>
void put_owned_deals(Sink& sink, const EngineState& state) {
  put(sink, static_cast<uint64_t>(state.owned_deals.size()));
  put(sink, state.owned_deals_complete_since_epoch_ms);
  for (const OwnedDeal& deal : state.owned_deals) {
    sink.bytes(deal.deal_id.data(), deal.deal_id.size());
    put(sink, deal.epoch_ms);
    put(sink, deal.order_id);
    put(sink, deal.instrument);
    put(sink, static_cast<uint8_t>(deal.side));
    put(sink, static_cast<uint8_t>(deal.opened ? 1 : 0));
    put_zeros(sink, 4);
  }
}

// ---- Decoding ---------------------------------------------------------------------------------

// Sequential little-endian reads over a buffer whose size the caller has already checked.
class ByteSource {
 public:
  explicit ByteSource(std::string_view bytes) : bytes_(bytes) {}
  template <typename Int>
  Int get() {
    Int value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof value);
    offset_ += sizeof value;
    return value;
  }
  __int128 get_i128() {
    const auto low = get<uint64_t>();
    const auto high = get<int64_t>();
    return static_cast<__int128>((static_cast<unsigned __int128>(high) << 64) | low);
  }
  void copy_to(void* out, std::size_t size) {
    std::memcpy(out, bytes_.data() + offset_, size);
    offset_ += size;
  }
  void skip(std::size_t size) { offset_ += size; }
  std::size_t offset() const { return offset_; }

 private:
  std::string_view bytes_;
  std::size_t offset_ = 0;
};

absl::Status damaged(const std::filesystem::path& path, const std::string& reason) {
  return absl::DataLossError(fmt::format("snapshot {}: {}", path.string(), reason));
}

absl::StatusOr<std::string> read_whole_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    const std::string message =
        fmt::format("snapshot {}: cannot open: {}", path.string(),
                    std::error_code(error, std::generic_category()).message());
    return error == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
  }
  struct stat st {};
  std::string bytes;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(
          fmt::format("snapshot {}: cannot read: {}", path.string(),
                      std::error_code(error, std::generic_category()).message()));
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

std::string table_text(std::span<const InstrumentSpec> table) {
  std::string text;
  for (const InstrumentSpec& spec : table) {
    if (!text.empty()) text += ", ";
    text += std::string(spec.name());
  }
  return text;
}

std::string instrument_text(const InstrumentSpec& spec) {
  return fmt::format("{} (price decimals {}, size decimals {}, contract multiplier {})",
                     spec.name(), spec.price_decimals, spec.size_decimals,
                     spec.contract_multiplier);
}

}  // namespace

absl::StatusOr<std::string> encode_snapshot(const EngineState& state,
                                            std::span<const InstrumentSpec> instruments) {
  const std::size_t n = instruments.size();
  if (state.positions.size() != n || state.open_buy_size.size() != n ||
      state.open_sell_size.size() != n) {
    return absl::InvalidArgumentError(fmt::format(
        "state has {} positions, {}/{} open sizes, the instrument table {} entries",
        state.positions.size(), state.open_buy_size.size(), state.open_sell_size.size(), n));
  }
  std::string out;
  out.reserve(kHeaderSize +
              n * (kInstrumentRecordSize + kPositionRecordSize + kOpenSizeRecordSize) +
              state.orders.size() * kOrderRecordSize + kOwnedDealsHeaderSize +
              state.owned_deals.size() * kOwnedDealRecordSize + kCrcSize);
  ByteSink sink(out);
  sink.bytes(kMagic, sizeof kMagic);
  put(sink, kSnapshotFormatVersion);
  put(sink, static_cast<uint32_t>(kHeaderSize));
  put(sink, state.journal_sequence);
  put(sink, state.last_order_id);
  put(sink, static_cast<uint64_t>(state.orders.size()));
  put(sink, static_cast<uint32_t>(n));
  put(sink, static_cast<uint8_t>(state.trading_state));
  put(sink, static_cast<uint8_t>(state.kill_switch ? 1 : 0));
  put_zeros(sink, 2);
  put(sink, static_cast<uint32_t>(kInstrumentRecordSize));
  put(sink, static_cast<uint32_t>(kPositionRecordSize));
  put(sink, static_cast<uint32_t>(kOrderRecordSize));
  put_zeros(sink, 4);
  put(sink, wall_now_ns());
  for (const InstrumentSpec& spec : instruments) put_instrument(sink, spec);
  put_state_body(sink, state, /*include_marks=*/true);
  put_owned_deals(sink, state);
  put(sink, crc32c(out.data(), out.size()));
  return out;
}

absl::Status write_snapshot(const std::filesystem::path& data_dir, const EngineState& state,
                            std::span<const InstrumentSpec> instruments) {
  absl::StatusOr<std::string> bytes = encode_snapshot(state, instruments);
  if (!bytes.ok()) return bytes.status();
  const std::filesystem::path path =
      snapshots_dir(data_dir) / snapshot_file_name(state.journal_sequence);
  return write_file_atomically(path, *bytes);
}

absl::StatusOr<DecodedSnapshot> decode_snapshot_file(const std::filesystem::path& path) {
  absl::StatusOr<std::string> file = read_whole_file(path);
  if (!file.ok()) return file.status();
  const std::string_view bytes = *file;
  const std::size_t size = bytes.size();
  if (size < kHeaderSize + kCrcSize) {
    return damaged(path, fmt::format("truncated: {} bytes, less than a header ({} bytes)", size,
                                     kHeaderSize + kCrcSize));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return damaged(path, "not a snapshot file (bad magic)");
  }
  ByteSource in(bytes);
  in.skip(sizeof kMagic);
  const auto version = in.get<uint32_t>();
  const auto header_size = in.get<uint32_t>();
  const auto journal_sequence = in.get<uint64_t>();
  const auto last_order_id = in.get<uint64_t>();
  const auto order_count = in.get<uint64_t>();
  const auto instrument_count = in.get<uint32_t>();
  const auto trading_state = in.get<uint8_t>();
  const auto kill_switch = in.get<uint8_t>();
  in.skip(2);
  const auto instrument_record_size = in.get<uint32_t>();
  const auto position_record_size = in.get<uint32_t>();
  const auto order_record_size = in.get<uint32_t>();
  in.skip(4);
  const auto written_unix_ns = in.get<int64_t>();

  // The size the header describes, when its counts are plausible (0 otherwise): a truncated file
  // is then reported as such rather than as a bare CRC mismatch.
  // Version 2: the owned deals' count follows the orders.
  const bool readable_version =
      version >= kOldestReadableSnapshotFormatVersion && version <= kSnapshotFormatVersion;
  uint64_t described_size = 0;
  uint64_t owned_deal_count = 0;
  if (readable_version && instrument_count <= kMaxInstruments &&
      order_count <= size / kOrderRecordSize) {
    const uint64_t orders_end =
        kHeaderSize +
        uint64_t{instrument_count} *
            (kInstrumentRecordSize + kPositionRecordSize + kOpenSizeRecordSize) +
        order_count * kOrderRecordSize;
    if (version == 1) {
      described_size = orders_end + kCrcSize;
    } else if (size >= orders_end + kOwnedDealsHeaderSize + kCrcSize) {
      std::memcpy(&owned_deal_count, bytes.data() + orders_end, sizeof owned_deal_count);
      if (owned_deal_count <= size / kOwnedDealRecordSize) {
        described_size =
            orders_end + kOwnedDealsHeaderSize + owned_deal_count * kOwnedDealRecordSize + kCrcSize;
      }
    } else {
      described_size = orders_end + kOwnedDealsHeaderSize + kCrcSize;  // at least: truncated
    }
  }
  uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + size - kCrcSize, kCrcSize);
  const uint32_t computed_crc = crc32c(bytes.data(), size - kCrcSize);
  if (stored_crc != computed_crc) {
    if (described_size != 0 && described_size != size) {
      return damaged(path, fmt::format("{}: {} bytes, its header describes {}",
                                       size < described_size ? "truncated" : "trailing bytes", size,
                                       described_size));
    }
    return damaged(path, fmt::format("CRC mismatch (stored {:08x}, computed {:08x}): damaged",
                                     stored_crc, computed_crc));
  }
  if (!readable_version) {
    return absl::FailedPreconditionError(fmt::format(
        "snapshot {}: format version {}, this build reads versions {} to {}", path.string(),
        version, kOldestReadableSnapshotFormatVersion, kSnapshotFormatVersion));
  }
  if (header_size != kHeaderSize || instrument_record_size != kInstrumentRecordSize ||
      position_record_size != kPositionRecordSize || order_record_size != kOrderRecordSize) {
    return damaged(path, fmt::format("record sizes (header {}, instrument {}, position {}, order "
                                     "{}) differ from the format's ({}, {}, {}, {})",
                                     header_size, instrument_record_size, position_record_size,
                                     order_record_size, kHeaderSize, kInstrumentRecordSize,
                                     kPositionRecordSize, kOrderRecordSize));
  }
  if (instrument_count > kMaxInstruments) {
    return damaged(path,
                   fmt::format("{} instruments, more than {}", instrument_count, kMaxInstruments));
  }
  if (described_size != size) {
    return damaged(path, fmt::format("{} bytes, its header describes {}", size,
                                     described_size != 0 ? fmt::to_string(described_size)
                                                         : std::string("an impossible size")));
  }
  if (trading_state > static_cast<uint8_t>(TradingState::kHalted) || kill_switch > 1) {
    return damaged(
        path, fmt::format("bad trading state {} or kill switch {}", trading_state, kill_switch));
  }

  DecodedSnapshot out;
  out.info.path = path;
  out.info.format_version = version;
  out.info.journal_sequence = journal_sequence;
  out.info.last_order_id = last_order_id;
  out.info.order_count = order_count;
  out.info.written_unix_ns = written_unix_ns;
  out.info.file_size = size;
  EngineState& state = out.state;
  state.journal_sequence = journal_sequence;
  state.last_order_id = last_order_id;
  state.trading_state = static_cast<TradingState>(trading_state);
  state.kill_switch = kill_switch != 0;

  for (uint32_t i = 0; i < instrument_count; ++i) {
    InstrumentSpec spec;
    spec.id = static_cast<InstrumentId>(i);
    in.copy_to(spec.symbol.data(), spec.symbol.size());
    spec.price_decimals = in.get<int8_t>();
    spec.size_decimals = in.get<int8_t>();
    in.skip(6);
    spec.tick = in.get<int64_t>();
    spec.min_size = in.get<int64_t>();
    spec.size_increment = in.get<int64_t>();
    spec.max_size = in.get<int64_t>();
    spec.contract_multiplier = in.get<int64_t>();
    if (spec.price_decimals < 0 || spec.price_decimals > 18 || spec.size_decimals < 0 ||
        spec.size_decimals > 18) {
      return damaged(path, fmt::format("instrument {}: impossible decimals {}/{}", i,
                                       spec.price_decimals, spec.size_decimals));
    }
    out.info.instruments.push_back(spec);
  }
  state.positions.reserve(instrument_count);
  for (uint32_t i = 0; i < instrument_count; ++i) {
    PositionFields fields{};
    fields.net_size = in.get<int64_t>();
    fields.open_value = in.get_i128();
    fields.realized_pnl = in.get<int64_t>();
    fields.bought_size = in.get<int64_t>();
    fields.sold_size = in.get<int64_t>();
    fields.last_bid = in.get<int64_t>();
    fields.last_ask = in.get<int64_t>();
    state.positions.push_back(std::bit_cast<Position>(fields));
  }
  state.open_buy_size.reserve(instrument_count);
  state.open_sell_size.reserve(instrument_count);
  for (uint32_t i = 0; i < instrument_count; ++i) {
    state.open_buy_size.push_back(in.get<int64_t>());
    state.open_sell_size.push_back(in.get<int64_t>());
  }
  state.orders.reserve(order_count);
  OrderId previous_id = 0;
  for (uint64_t i = 0; i < order_count; ++i) {
    Order order;
    order.id = in.get<uint64_t>();
    in.copy_to(order.client_order_id.chars, ClientOrderId::kCapacity);
    order.source = in.get<uint16_t>();
    order.instrument = in.get<uint16_t>();
    const auto side = in.get<uint8_t>();
    const auto type = in.get<uint8_t>();
    const auto time_in_force = in.get<uint8_t>();
    const auto order_state = in.get<uint8_t>();
    const auto state_before_cancel = in.get<uint8_t>();
    const auto flags = in.get<uint8_t>();
    in.skip(6);
    order.limit_price = in.get<int64_t>();
    order.size = in.get<int64_t>();
    order.filled_size = in.get<int64_t>();
    order.average_fill_price = in.get<int64_t>();
    order.filled_value = in.get_i128();
    order.created_ns = in.get<int64_t>();
    order.created_epoch_ms = in.get<int64_t>();
    in.copy_to(order.venue_order_id.data(), order.venue_order_id.size());
    if (order.id == 0 || order.id <= previous_id || order.id > last_order_id) {
      return damaged(path, fmt::format("order #{} has id {} (previous {}, last order id {})", i,
                                       order.id, previous_id, last_order_id));
    }
    if (order.instrument >= instrument_count || side > 1 || type > 1 || time_in_force > 1 ||
        order_state >= kOrderStateCount || state_before_cancel >= kOrderStateCount ||
        (flags & ~(kOrderCancelWanted | kOrderVenueIdIsReference)) != 0) {
      return damaged(path,
                     fmt::format("order {}: impossible instrument {} or enum value "
                                 "(side {}, type {}, time in force {}, state {}/{}, flags {})",
                                 order.id, order.instrument, side, type, time_in_force, order_state,
                                 state_before_cancel, flags));
    }
    order.cancel_wanted = (flags & kOrderCancelWanted) != 0;
    order.venue_id_is_reference = (flags & kOrderVenueIdIsReference) != 0;
    order.side = static_cast<Side>(side);
    order.type = static_cast<OrderType>(type);
    order.time_in_force = static_cast<TimeInForce>(time_in_force);
    order.state = static_cast<OrderState>(order_state);
    order.state_before_cancel = static_cast<OrderState>(state_before_cancel);
    out.info.live_orders += order.is_live() ? 1 : 0;
    previous_id = order.id;
    state.orders.push_back(order);
  }
  if (version == 1) {
    // Written before deals were journaled as owned: complete from the snapshot's time on.
    state.owned_deals_complete_since_epoch_ms = written_unix_ns / 1'000'000;
    return out;
  }
  in.skip(sizeof(uint64_t));  // the count, read above
  state.owned_deals_complete_since_epoch_ms = in.get<int64_t>();
  state.owned_deals.reserve(owned_deal_count);
  for (uint64_t i = 0; i < owned_deal_count; ++i) {
    OwnedDeal deal;
    in.copy_to(deal.deal_id.data(), deal.deal_id.size());
    deal.epoch_ms = in.get<int64_t>();
    deal.order_id = in.get<uint64_t>();
    deal.instrument = in.get<uint16_t>();
    const auto side = in.get<uint8_t>();
    const auto opened = in.get<uint8_t>();
    in.skip(4);
    if (deal.instrument >= instrument_count || side > 1 || opened > 1) {
      return damaged(path, fmt::format("owned deal #{}: impossible instrument {}, side {} or "
                                       "opened {}",
                                       i, deal.instrument, side, opened));
    }
    deal.side = static_cast<Side>(side);
    deal.opened = opened != 0;
    state.owned_deals.push_back(deal);
  }
  return out;
}

absl::Status check_instrument_table(std::span<const InstrumentSpec> stored,
                                    std::span<const InstrumentSpec> expected) {
  if (stored.size() != expected.size()) {
    return absl::FailedPreconditionError(
        fmt::format("the snapshot has {} instruments ({}), this configuration {} ({})",
                    stored.size(), table_text(stored), expected.size(), table_text(expected)));
  }
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const InstrumentSpec& a = stored[i];
    const InstrumentSpec& b = expected[i];
    if (a.name() != b.name() || a.price_decimals != b.price_decimals ||
        a.size_decimals != b.size_decimals || a.contract_multiplier != b.contract_multiplier) {
      return absl::FailedPreconditionError(
          fmt::format("instrument {}: the snapshot has {}, this configuration {}", i,
                      instrument_text(a), instrument_text(b)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EngineState> read_snapshot(const std::filesystem::path& path,
                                          std::span<const InstrumentSpec> instruments) {
  absl::StatusOr<DecodedSnapshot> decoded = decode_snapshot_file(path);
  if (!decoded.ok()) return decoded.status();
  if (absl::Status table = check_instrument_table(decoded->info.instruments, instruments);
      !table.ok()) {
    return absl::FailedPreconditionError(
        fmt::format("snapshot {}: taken under another instrument table: {}", path.string(),
                    std::string(table.message())));
  }
  return std::move(decoded->state);
}

absl::StatusOr<std::optional<LoadedSnapshot>> load_newest_valid_snapshot(
    const std::filesystem::path& data_dir, std::span<const InstrumentSpec> instruments,
    std::vector<SkippedSnapshot>* skipped_out, uint64_t at_most_sequence) {
  absl::StatusOr<std::vector<SnapshotFile>> files = list_snapshots(data_dir);
  if (!files.ok()) return files.status();
  std::vector<SkippedSnapshot> skipped;
  std::optional<LoadedSnapshot> loaded;
  for (auto it = files->rbegin(); it != files->rend(); ++it) {
    if (it->sequence > at_most_sequence) continue;
    absl::StatusOr<EngineState> state = read_snapshot(it->path, instruments);
    std::string reason;
    if (!state.ok()) {
      reason = std::string(state.status().message());
    } else if (state->journal_sequence != it->sequence) {
      reason = fmt::format("snapshot {}: named for sequence {} but covers sequence {}",
                           it->path.string(), it->sequence, state->journal_sequence);
    } else {
      loaded = LoadedSnapshot{it->path, it->sequence, std::move(*state), skipped};
      break;
    }
    spdlog::warn("refusing {}; trying an older snapshot", reason);
    skipped.push_back({it->path, std::move(reason)});
  }
  if (skipped_out != nullptr) *skipped_out = skipped;
  return loaded;
}

uint64_t state_digest(const EngineState& state) {
  DigestSink sink;
  put(sink, state.journal_sequence);
  put(sink, state.last_order_id);
  put(sink, static_cast<uint8_t>(state.trading_state));
  put(sink, static_cast<uint8_t>(state.kill_switch ? 1 : 0));
  put(sink, static_cast<uint64_t>(state.positions.size()));
  put(sink, static_cast<uint64_t>(state.orders.size()));
  // Open sizes are indexed like the positions; a state whose vectors disagree still digests
  // (to something no well-formed state gives) instead of reading out of bounds.
  if (state.open_buy_size.size() == state.positions.size() &&
      state.open_sell_size.size() == state.positions.size()) {
    put_state_body(sink, state, /*include_marks=*/false);
    if (!state.owned_deals.empty() || state.owned_deals_complete_since_epoch_ms != 0) {
      put_owned_deals(sink, state);
    }
  } else {
    put(sink, static_cast<uint64_t>(state.open_buy_size.size()));
    put(sink, static_cast<uint64_t>(state.open_sell_size.size()));
  }
  return sink.value();
}

}  // namespace qt::persist
