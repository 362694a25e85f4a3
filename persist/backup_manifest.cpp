// manifest.json writing and parsing, SHA-256 of files, backup folder names; see
// backup_manifest.hpp.
#include "persist/backup_manifest.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <system_error>

#include "common/json_writer.hpp"

namespace qt::persist {
namespace {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) out += fmt::format("{:02x}", bytes[i]);
  return out;
}

struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using DigestContext = std::unique_ptr<EVP_MD_CTX, DigestContextDeleter>;

bool safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return path.find('\0') == std::string_view::npos;
}

bool is_lower_hex_sha256(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

int parse_digits(std::string_view text, std::size_t at, std::size_t count, bool& ok) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') {
      ok = false;
      return 0;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

uint64_t BackupManifest::total_bytes() const {
  uint64_t total = 0;
  for (const ManifestFile& file : files) total += file.size;
  return total;
}

std::string to_json(const BackupManifest& manifest) {
  std::string out = "{\n";
  out += fmt::format("  \"format_version\": {},\n", manifest.format_version);
  out += fmt::format("  \"name\": {},\n", json_quoted(manifest.name));
  out += fmt::format("  \"created_utc\": {},\n", json_quoted(manifest.created_utc));
  out += fmt::format("  \"created_unix_ms\": {},\n", manifest.created_unix_ms);
  out += fmt::format("  \"hostname\": {},\n", json_quoted(manifest.hostname));
  out += fmt::format("  \"source_data_dir\": {},\n", json_quoted(manifest.source_data_dir));
  out += "  \"journal\": {\n";
  out += fmt::format("    \"first_sequence\": {},\n", manifest.journal_first_sequence);
  out += fmt::format("    \"last_sequence\": {},\n", manifest.journal_last_sequence);
  out += fmt::format("    \"records\": {}\n", manifest.journal_records);
  out += "  },\n";
  out += fmt::format("  \"snapshot_sequence\": {},\n",
                     manifest.snapshot_sequence ? fmt::format("{}", *manifest.snapshot_sequence)
                                                : std::string("null"));
  out += fmt::format("  \"total_bytes\": {},\n", manifest.total_bytes());
  out += "  \"files\": [";
  for (std::size_t i = 0; i < manifest.files.size(); ++i) {
    const ManifestFile& file = manifest.files[i];
    out += fmt::format("{}\n    {{\"path\": {}, \"size\": {}, \"sha256\": {}}}", i == 0 ? "" : ",",
                       json_quoted(file.path), file.size, json_quoted(file.sha256));
  }
  out += manifest.files.empty() ? "]\n" : "\n  ]\n";
  out += "}\n";
  return out;
}

absl::StatusOr<BackupManifest> parse_manifest(std::string_view json) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root); error) {
    return absl::DataLossError(
        fmt::format("manifest.json is not valid JSON: {}", simdjson::error_message(error)));
  }
  BackupManifest manifest;
  const auto fail = [](std::string_view field) {
    return absl::DataLossError(
        fmt::format("manifest.json: field '{}' is missing or has the wrong type", field));
  };
  int64_t version = 0;
  if (root["format_version"].get(version)) return fail("format_version");
  if (version != kBackupManifestVersion) {
    return absl::FailedPreconditionError(
        fmt::format("manifest.json has format_version {}; this program reads version {}", version,
                    kBackupManifestVersion));
  }
  manifest.format_version = static_cast<int>(version);
  std::string_view text;
  if (root["name"].get(text)) return fail("name");
  manifest.name = std::string(text);
  if (root["created_utc"].get(text)) return fail("created_utc");
  manifest.created_utc = std::string(text);
  if (root["created_unix_ms"].get(manifest.created_unix_ms)) return fail("created_unix_ms");
  if (root["hostname"].get(text)) return fail("hostname");
  manifest.hostname = std::string(text);
  if (root["source_data_dir"].get(text)) return fail("source_data_dir");
  manifest.source_data_dir = std::string(text);
  simdjson::dom::element journal;
  if (root["journal"].get(journal)) return fail("journal");
  if (journal["first_sequence"].get(manifest.journal_first_sequence)) {
    return fail("journal.first_sequence");
  }
  if (journal["last_sequence"].get(manifest.journal_last_sequence)) {
    return fail("journal.last_sequence");
  }
  if (journal["records"].get(manifest.journal_records)) return fail("journal.records");
  simdjson::dom::element snapshot;
  if (root["snapshot_sequence"].get(snapshot)) return fail("snapshot_sequence");
  if (!snapshot.is_null()) {
    uint64_t sequence = 0;
    if (snapshot.get(sequence)) return fail("snapshot_sequence");
    manifest.snapshot_sequence = sequence;
  }
  simdjson::dom::array files;
  if (root["files"].get(files)) return fail("files");
  for (simdjson::dom::element element : files) {
    ManifestFile file;
    if (element["path"].get(text)) return fail("files[].path");
    file.path = std::string(text);
    if (element["size"].get(file.size)) return fail("files[].size");
    if (element["sha256"].get(text)) return fail("files[].sha256");
    file.sha256 = std::string(text);
    if (!safe_relative_path(file.path)) {
      return absl::DataLossError(
          fmt::format("manifest.json: unsafe file path '{}' (absolute or with '..')", file.path));
    }
    if (!is_lower_hex_sha256(file.sha256)) {
      return absl::DataLossError(
          fmt::format("manifest.json: '{}' has a malformed sha256 '{}'", file.path, file.sha256));
    }
    manifest.files.push_back(std::move(file));
  }
  return manifest;
}

absl::StatusOr<FileDigest> sha256_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        fmt::format("cannot open {}: {}", path.string(),
                    std::error_code(errno, std::generic_category()).message()));
  }
  DigestContext context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    ::close(fd);
    return absl::InternalError("EVP_DigestInit_ex(sha256) failed");
  }
  FileDigest digest;
  std::vector<unsigned char> buffer(1 << 16);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return absl::UnavailableError(
          fmt::format("cannot read {}: {}", path.string(),
                      std::error_code(error, std::generic_category()).message()));
    }
    if (n == 0) break;
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(n));
    digest.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_size = 0;
  if (EVP_DigestFinal_ex(context.get(), out, &out_size) != 1) {
    return absl::InternalError("EVP_DigestFinal_ex(sha256) failed");
  }
  digest.sha256 = to_hex(out, out_size);
  return digest;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_size = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &out_size, EVP_sha256(), nullptr);
  return to_hex(out, out_size);
}

std::string backup_name_for(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::optional<std::chrono::system_clock::time_point> parse_backup_name(std::string_view name) {
  // YYYY-MM-DDTHH-MM-SSZ[-N]
  if (name.size() < 20) return std::nullopt;
  bool ok = true;
  std::tm utc{};
  utc.tm_year = parse_digits(name, 0, 4, ok) - 1900;
  utc.tm_mon = parse_digits(name, 5, 2, ok) - 1;
  utc.tm_mday = parse_digits(name, 8, 2, ok);
  utc.tm_hour = parse_digits(name, 11, 2, ok);
  utc.tm_min = parse_digits(name, 14, 2, ok);
  utc.tm_sec = parse_digits(name, 17, 2, ok);
  ok = ok && name[4] == '-' && name[7] == '-' && name[10] == 'T' && name[13] == '-' &&
       name[16] == '-' && name[19] == 'Z';
  ok = ok && utc.tm_mon >= 0 && utc.tm_mon < 12 && utc.tm_mday >= 1 && utc.tm_mday <= 31 &&
       utc.tm_hour < 24 && utc.tm_min < 60 && utc.tm_sec < 61;
  if (!ok) return std::nullopt;
  if (name.size() > 20) {
    const std::string_view suffix = name.substr(20);
    if (suffix.size() < 2 || suffix[0] != '-' || suffix[1] == '0' ||
        !std::all_of(suffix.begin() + 1, suffix.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
  }
  const std::time_t seconds = ::timegm(&utc);
  return std::chrono::system_clock::from_time_t(seconds);
}

}  // namespace qt::persist
