// Writes a small journal for the CLI test (tests/cli/journal_cli_test.sh):
//   journal_fixture_writer DIR clean    sample records 1..2000, closed cleanly (all sealed)
//   journal_fixture_writer DIR torn     1..2000 left as a crash leaves them, then the last
//                                       record's payload damaged (a torn tail)
//   journal_fixture_writer DIR corrupt  1..2000 closed cleanly, then one byte flipped in the
//                                       middle of the first (sealed) segment
// 64 KiB segments, async mode. Prints the damaged file and offset for torn and corrupt.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "persist/journal.hpp"
#include "persist/journal_reader.hpp"
#include "tests/persist/sample_records.hpp"

namespace {

using namespace qt::persist;

constexpr uint64_t kLast = 2000;

int fail(const std::string& what) {
  std::fprintf(stderr, "journal_fixture_writer: %s\n", what.c_str());
  return 1;
}

void flip(const std::filesystem::path& path, uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDWR);
  unsigned char byte = 0;
  if (::pread(fd, &byte, 1, static_cast<off_t>(offset)) == 1) {
    byte ^= 0x5A;
    (void)::pwrite(fd, &byte, 1, static_cast<off_t>(offset));
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage: journal_fixture_writer DIR clean|torn|corrupt");
  const std::filesystem::path dir = argv[1];
  const std::string kind = argv[2];
  JournalOptions options;
  options.dir = dir;
  options.segment_size = 64 * 1024;
  options.durability = Durability::kAsync;
  auto write_all = [&]() -> absl::StatusOr<std::unique_ptr<JournalWriter>> {
    absl::StatusOr<std::unique_ptr<JournalWriter>> writer = JournalWriter::open(options, 1);
    if (!writer.ok()) return writer.status();
    for (uint64_t s = 1; s <= kLast; ++s) {
      if (absl::Status st = (*writer)->append(test::sample_entry(s)); !st.ok()) return st;
    }
    if (absl::Status st = (*writer)->commit(); !st.ok()) return st;
    return writer;
  };
  if (kind == "torn") {
    // Written by a child that then dies without closing anything, as a crashed engine would.
    const pid_t child = ::fork();
    if (child == 0) ::_exit(write_all().ok() ? 0 : 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("writing child failed");
    auto reader = JournalReader::open(dir);
    if (!reader.ok()) return fail(std::string(reader.status().message()));
    RecordView view, last;
    while ((*reader)->next(view)) last = view;
    const std::filesystem::path file = *last.segment_path;
    const uint64_t offset = last.offset;
    reader->reset();
    flip(file, offset + 40);
    std::printf("%s %llu\n", file.filename().c_str(), static_cast<unsigned long long>(offset));
    return 0;
  }
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer = write_all();
  if (!writer.ok()) return fail(std::string(writer.status().message()));
  if (!(*writer)->close().ok()) return fail("close failed");
  if (kind == "corrupt") {
    auto reader = JournalReader::open(dir);
    RecordView view;
    while ((*reader)->next(view) && view.sequence != 300) {
    }
    const std::filesystem::path file = *view.segment_path;
    const uint64_t offset = view.offset;
    reader->reset();
    flip(file, offset + 40);
    std::printf("%s %llu\n", file.filename().c_str(), static_cast<unsigned long long>(offset));
    return 0;
  }
  return kind == "clean" ? 0 : fail("unknown kind " + kind);
}
