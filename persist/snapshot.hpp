// Snapshots of the engine's state: the versioned file format (persist/FORMAT.md, "Snapshots"),
// writing one atomically, reading one back with every check, finding the newest valid one in a
// data directory, and a digest of a state for comparing two of them.
//
// A snapshot file holds one EngineState (orders, positions, open sizes, trading state, kill
// switch, last order id, and the journal sequence it covers) plus the instrument table it was
// taken under, in a fixed-size little-endian serialisation written field by field (never raw
// struct bytes: no padding, no layout of this build leaks onto disk), ending with a CRC32C of
// everything before it.
//
// Guarantees:
//  - write_snapshot() is atomic: a temporary file beside the target, fsynced, renamed over it,
//    then the directory fsynced. A crash leaves the old set of snapshots or the new one, never a
//    half-written snapshot under a snapshot name (the temporary's name is not one).
//  - read_snapshot() accepts a file only if its size, magic, format version, CRC, record sizes,
//    every enum value, the order ids and the instrument table all check; any failure is an error
//    naming the file and the reason. It never returns a partly decoded state.
//  - load_newest_valid_snapshot() tries the snapshots newest first, logs each refused one (warn,
//    with file and reason) and returns the first that reads, with the list of those skipped.
//
// Threads and allocation: every function is self-contained (no shared state) and may run on any
// thread; all of them allocate and do blocking file I/O. Never called by the engine thread: the
// snapshotter (persist/snapshotter.hpp) and start-up recovery call them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/engine.hpp"
#include "engine/instrument.hpp"

namespace qt::persist {

// Version 2 added the owned deals (engine/owned_deals.hpp) after the orders; version 1 files
// are still read (no owned deals: the list is complete only from the snapshot's time on).
inline constexpr uint32_t kSnapshotFormatVersion = 2;
inline constexpr uint32_t kOldestReadableSnapshotFormatVersion = 1;

// What a snapshot file says about itself, once it has passed every integrity check.
struct SnapshotInfo {
  std::filesystem::path path;
  uint32_t format_version = 0;
  uint64_t journal_sequence = 0;
  uint64_t last_order_id = 0;
  uint64_t order_count = 0;
  uint64_t live_orders = 0;
  int64_t written_unix_ns = 0;  // wall clock when it was encoded (informational)
  uint64_t file_size = 0;
  std::vector<InstrumentSpec> instruments;  // the table it was taken under
};

struct DecodedSnapshot {
  SnapshotInfo info;
  EngineState state;
};

// The bytes of a snapshot file for `state` taken under `instruments` (what write_snapshot()
// writes). InvalidArgument when the state's per-instrument vectors do not match the table.
absl::StatusOr<std::string> encode_snapshot(const EngineState& state,
                                            std::span<const InstrumentSpec> instruments);

// Writes <data_dir>/snapshots/snapshot-<state.journal_sequence>.qts atomically (see above),
// creating the directory if needed. Replaces a snapshot of the same sequence.
absl::Status write_snapshot(const std::filesystem::path& data_dir, const EngineState& state,
                            std::span<const InstrumentSpec> instruments);

// Decodes and checks a snapshot file without knowing the instrument table to expect (for
// `snapshot verify` and tools). DataLoss for a damaged file, FailedPrecondition for a format
// version this build does not read, NotFound/Unavailable when it cannot be read; every message
// starts with "snapshot <path>: ".
absl::StatusOr<DecodedSnapshot> decode_snapshot_file(const std::filesystem::path& path);

// As decode_snapshot_file(), and also refuses (FailedPrecondition) a snapshot taken under
// another instrument table: a different count, or an instrument whose symbol, price or size
// decimals or contract multiplier differ — the stored numbers would mean something else.
// Dealing rules (tick, minimum size, increment, maximum) may differ.
absl::StatusOr<EngineState> read_snapshot(const std::filesystem::path& path,
                                          std::span<const InstrumentSpec> instruments);

// OK when a snapshot's table can be used under `expected` (see read_snapshot()); otherwise
// FailedPrecondition saying which instrument differs and how.
absl::Status check_instrument_table(std::span<const InstrumentSpec> stored,
                                    std::span<const InstrumentSpec> expected);

struct SkippedSnapshot {
  std::filesystem::path path;
  std::string reason;
};

struct LoadedSnapshot {
  std::filesystem::path path;
  uint64_t sequence = 0;  // the journal sequence the state covers
  EngineState state;
  std::vector<SkippedSnapshot> skipped;  // newer snapshots refused before this one
};

// The newest snapshot of <data_dir>/snapshots that reads under `instruments`, trying older ones
// when a newer one is refused (each refusal logged at warn with file and reason). nullopt when
// there is none or none reads; `skipped`, when given, receives every refused one either way.
// Snapshots named for a sequence above `at_most_sequence` are passed over unread (not refused:
// replaying to an earlier point needs an earlier snapshot, and a later one is not damaged).
// Errors only when the directory cannot be listed.
absl::StatusOr<std::optional<LoadedSnapshot>> load_newest_valid_snapshot(
    const std::filesystem::path& data_dir, std::span<const InstrumentSpec> instruments,
    std::vector<SkippedSnapshot>* skipped = nullptr,
    uint64_t at_most_sequence = std::numeric_limits<uint64_t>::max());

// A stable 64-bit digest (FNV-1a) of the canonical serialisation of a state — the same
// field-by-field encoding the file uses: journal sequence, last order id, trading state, kill
// switch, every position, the open sizes and every order field. Left out: each position's last
// bid/ask mark, which comes from quotes (not journaled), so that a live engine, a restored one
// and a replayed one agree on the same journal. Equal states give equal digests on every build.
uint64_t state_digest(const EngineState& state);

}  // namespace qt::persist
