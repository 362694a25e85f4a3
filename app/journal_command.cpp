// `quanttrading journal dump | verify | stats`; see app/journal_command.hpp.
#include "app/journal_command.hpp"

#include <fmt/format.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <ostream>

#include "app/config.hpp"
#include "app/config_flags.hpp"
#include "persist/data_dir.hpp"
#include "persist/journal_reader.hpp"
#include "persist/records.hpp"

namespace qt {
namespace {

using Action = JournalCommandOptions::Action;

void add_common(CLI::App& command, JournalCommandOptions& options) {
  add_config_flags(command, options.config_file, options.sets, options.data_dir);
}

// "2026-11-25T21:45:24.123456789Z" for wall-clock nanoseconds.
std::string utc_text(int64_t epoch_ns) {
  const time_t seconds = static_cast<time_t>(epoch_ns / 1'000'000'000);
  const int64_t nanos = epoch_ns % 1'000'000'000;
  tm parts{};
  ::gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     nanos);
}

int exit_code_of(const persist::VerifyReport& report) {
  switch (report.damage.kind) {
    case persist::DamageKind::kNone: return kJournalExitClean;
    case persist::DamageKind::kTornTail: return kJournalExitTornTail;
    case persist::DamageKind::kCorruption: return kJournalExitCorruption;
  }
  return kJournalExitCorruption;
}

int dump(const std::filesystem::path& dir, const JournalCommandOptions& options, std::ostream& out,
         std::ostream& err) {
  uint16_t type_filter = 0;
  if (!options.type.empty()) {
    const persist::RecordType type = persist::record_type_from_name(options.type);
    if (type == persist::RecordType::kInvalid) {
      err << "journal dump: unknown record type \"" << options.type << "\"; one of:";
      for (uint16_t t = 1; t < 64; ++t) {
        const std::string_view name =
            persist::record_type_name(static_cast<persist::RecordType>(t));
        if (name != "unknown") err << ' ' << name;
      }
      err << ' ' << persist::record_type_name(persist::RecordType::kSegmentSeal) << '\n';
      return kJournalExitUnreadable;
    }
    type_filter = static_cast<uint16_t>(type);
  }
  persist::ReaderOptions reader_options;
  reader_options.from_sequence = options.from_sequence;
  reader_options.include_internal = type_filter != 0 && persist::is_internal(type_filter);
  absl::StatusOr<std::unique_ptr<persist::JournalReader>> reader =
      persist::JournalReader::open(dir, reader_options);
  if (!reader.ok()) {
    err << "journal dump: " << reader.status().message() << '\n';
    return kJournalExitUnreadable;
  }
  persist::RecordView view;
  while ((*reader)->next(view)) {
    if (type_filter != 0 && view.type != type_filter) continue;
    if (options.order_id != 0 &&
        persist::record_order_id(view.type, view.payload) != options.order_id) {
      continue;
    }
    out << fmt::format(R"({{"seq":{},"ts":{},"type":"{}","segment":"{}","offset":{},)"
                       R"("payload":{}}})",
                       view.sequence, view.timestamp_ns,
                       persist::record_type_name(view.record_type()),
                       view.segment_path->filename().string(), view.offset,
                       persist::record_payload_json(view.type, view.payload))
        << '\n';
  }
  if (!(*reader)->status().ok()) {
    err << "journal dump: stopped: " << (*reader)->status().message()
        << "\n(run `quanttrading journal verify` for the full report)\n";
    return kJournalExitTornTail;
  }
  return kJournalExitClean;
}

int verify(const std::filesystem::path& dir, std::ostream& out, std::ostream& err) {
  absl::StatusOr<persist::VerifyReport> report = persist::verify_journal(dir);
  if (!report.ok()) {
    err << "journal verify: " << report.status().message() << '\n';
    return kJournalExitUnreadable;
  }
  out << report->to_text();
  return exit_code_of(*report);
}

int stats(const std::filesystem::path& dir, std::ostream& out, std::ostream& err) {
  absl::StatusOr<persist::VerifyReport> report = persist::verify_journal(dir);
  if (!report.ok()) {
    err << "journal stats: " << report.status().message() << '\n';
    return kJournalExitUnreadable;
  }
  std::size_t sealed = 0;
  for (const persist::SegmentSummary& s : report->segments) sealed += s.sealed ? 1 : 0;
  out << fmt::format("journal: {}\n", dir.string());
  out << fmt::format("segments: {} ({} sealed)\n", report->segments.size(), sealed);
  out << fmt::format("records: {}\n", report->records);
  out << fmt::format("bytes: {}\n", report->bytes);
  if (report->records > 0) {
    out << fmt::format("sequences: {}..{}\n", report->first_sequence, report->last_sequence);
    out << fmt::format(
        "time span: {} .. {} ({:.3f} s)\n", utc_text(report->first_timestamp_ns),
        utc_text(report->last_timestamp_ns),
        static_cast<double>(report->last_timestamp_ns - report->first_timestamp_ns) / 1e9);
  } else {
    out << "sequences: none\n";
  }
  out << "records by type:\n";
  for (const auto& [type, count] : report->records_by_type) {
    const std::string_view name = persist::record_type_name(static_cast<persist::RecordType>(type));
    out << fmt::format("  {:<18} {}\n",
                       name == "unknown" ? fmt::format("type {}", type) : std::string(name), count);
  }
  if (report->clean()) {
    out << "damage: none\n";
  } else {
    out << fmt::format("damage: {} in {} at offset {}: {}\n",
                       persist::to_string(report->damage.kind), report->damage.segment.string(),
                       report->damage.offset, report->damage.reason);
  }
  return exit_code_of(*report);
}

}  // namespace

CLI::App* add_journal_subcommand(CLI::App& app, JournalCommandOptions& options) {
  CLI::App* journal = app.add_subcommand(
      "journal", "read the journal: dump records, verify it, or show statistics (never writes)");
  journal->require_subcommand(1);

  CLI::App* dump_command = journal->add_subcommand("dump", "print records as JSON lines");
  add_common(*dump_command, options);
  dump_command->add_option("--order-id", options.order_id, "only records about this order id");
  dump_command->add_option("--type", options.type,
                           "only records of this type (e.g. order_received, venue_event)");
  dump_command->add_option("--from-seq", options.from_sequence, "start at this sequence number");
  dump_command->callback([&options] { options.action = Action::kDump; });

  CLI::App* verify_command = journal->add_subcommand(
      "verify", "check every record; exit 0 clean, 1 torn tail, 2 corruption (never repairs)");
  add_common(*verify_command, options);
  verify_command->callback([&options] { options.action = Action::kVerify; });

  CLI::App* stats_command =
      journal->add_subcommand("stats", "segments, records per type, bytes, sequences, time span");
  add_common(*stats_command, options);
  stats_command->callback([&options] { options.action = Action::kStats; });
  return journal;
}

int run_journal_command(const JournalCommandOptions& options,
                        const std::vector<std::string>& environment, std::ostream& out,
                        std::ostream& err) {
  std::filesystem::path dir;
  if (!options.data_dir.empty()) {
    dir = persist::journal_dir(options.data_dir);
  } else {
    ConfigSources sources;
    sources.file_path = options.config_file;
    sources.set_overrides = options.sets;
    sources.environment = environment;
    absl::StatusOr<AppConfig> config = load_config(sources);
    if (!config.ok()) {
      err << "configuration errors:\n" << config.status().message() << '\n';
      return kJournalExitUnreadable;
    }
    dir = persist::journal_dir(config->data_dir);
  }
  switch (options.action) {
    case Action::kDump: return dump(dir, options, out, err);
    case Action::kVerify: return verify(dir, out, err);
    case Action::kStats: return stats(dir, out, err);
    case Action::kNone: break;
  }
  err << "journal: one of dump, verify, stats\n";
  return kJournalExitUnreadable;
}

}  // namespace qt
