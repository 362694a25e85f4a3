// journal_bench's peer: the same records inserted into a WAL-mode SQLite table (seq INTEGER
// PRIMARY KEY, type, ts, payload BLOB) with a prepared statement, one transaction per record or
// batches of them.
#include <sqlite3.h>

#include <cstring>
#include <vector>

#include "bench/journal_bench.hpp"
#include "engine/clock.hpp"

namespace qt::bench {
namespace {

void sqlite_exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "?";
    sqlite3_free(error);
    die(std::string("sqlite: ") + sql + ": " + message);
  }
}

sqlite3_stmt* sqlite_prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
    die(std::string("sqlite prepare: ") + sql + ": " + sqlite3_errmsg(db));
  }
  return statement;
}

void sqlite_step_done(sqlite3* db, sqlite3_stmt* statement) {
  if (sqlite3_step(statement) != SQLITE_DONE)
    die(std::string("sqlite step: ") + sqlite3_errmsg(db));
  sqlite3_reset(statement);
}

}  // namespace

SqliteResult run_sqlite(const fs::path& base, EntryPool& pool, std::size_t records,
                        std::size_t batch, const char* synchronous, const TickClock& clock) {
  settle_disk(base);
  const fs::path dir = fresh_dir(base, "sqlite");
  const fs::path path = dir / "journal.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    die("sqlite open " + path.string());
  }
  {
    sqlite3_stmt* mode = sqlite_prepare(db, "PRAGMA journal_mode=WAL");
    if (sqlite3_step(mode) != SQLITE_ROW ||
        std::strcmp(reinterpret_cast<const char*>(sqlite3_column_text(mode, 0)), "wal") != 0) {
      die("sqlite: WAL mode refused");
    }
    sqlite3_finalize(mode);
  }
  sqlite_exec(db, (std::string("PRAGMA synchronous=") + synchronous).c_str());
  sqlite_exec(db,
              "CREATE TABLE journal(seq INTEGER PRIMARY KEY, type INTEGER NOT NULL, "
              "ts INTEGER NOT NULL, payload BLOB NOT NULL)");
  sqlite3_stmt* insert =
      sqlite_prepare(db, "INSERT INTO journal(seq, type, ts, payload) VALUES(?, ?, ?, ?)");
  sqlite3_stmt* begin = sqlite_prepare(db, "BEGIN");
  sqlite3_stmt* commit = sqlite_prepare(db, "COMMIT");
  std::vector<int64_t> txns;
  txns.reserve(records / batch + 1);
  const LoadWindow load;
  const int64_t start = now_ns();
  uint64_t txn_start = 0;
  for (uint64_t sequence = 1; sequence <= records; ++sequence) {
    const std::span<const std::byte> payload = pool.payload_bytes(sequence);
    const bool batched = batch > 1;
    if (batched && (sequence - 1) % batch == 0) {
      txn_start = TickClock::now();
      sqlite_step_done(db, begin);
    }
    sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(sequence));
    sqlite3_bind_int(insert, 2, EntryPool::kType);
    sqlite3_bind_int64(insert, 3, EntryPool::timestamp(sequence));
    sqlite3_bind_blob(insert, 4, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
    if (!batched) txn_start = TickClock::now();
    sqlite_step_done(db, insert);  // autocommit when not batched: its own transaction
    if (!batched) {
      txns.push_back(static_cast<int64_t>(TickClock::now() - txn_start));
    } else if (sequence % batch == 0 || sequence == records) {
      sqlite_step_done(db, commit);
      txns.push_back(static_cast<int64_t>(TickClock::now() - txn_start));
    }
  }
  const int64_t elapsed = now_ns() - start;
  const LoadWindow::Figures load_figures = load.end();
  sqlite3_finalize(insert);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  remove_dir(dir);
  SqliteResult result;
  result.per_txn = percentiles(txns, clock.to_ns(1.0));
  result.records_per_second = static_cast<double>(records) * 1e9 / static_cast<double>(elapsed);
  result.amortized_ns = static_cast<double>(elapsed) / static_cast<double>(records);
  result.load = load_figures;
  return result;
}

void print_sqlite(const char* label, const SqliteResult& r) {
  std::printf("    sqlite     %-24s txn p50/p99/p99.9/max %-36s %10s   %s/record amortized  [%s]\n",
              label, fmt_pct(r.per_txn).c_str(), fmt_rate(r.records_per_second).c_str(),
              fmt_ns(r.amortized_ns).c_str(), fmt_load(r.load).c_str());
}

std::string sqlite_version() {
  return std::string("SQLite ") + sqlite3_libversion();
}

}  // namespace qt::bench
