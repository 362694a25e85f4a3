// The aws CLI wrapper; see s3_cli.hpp.
#include "persist/s3_cli.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "persist/child_process.hpp"

namespace qt::persist {
namespace {

std::string strip_slashes(std::string_view text) {
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return std::string(text);
}

// Bucket names per S3's rules: 3-63 characters of lower-case letters, digits, '.', '-'.
bool plausible_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  return std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace

std::string S3Location::uri(std::string_view child) const {
  std::string out = "s3://" + bucket + "/";
  if (!prefix.empty()) out += prefix + "/";
  const std::string rest = strip_slashes(child);
  if (!rest.empty()) out += rest;
  return out;
}

S3Location S3Location::child(std::string_view name) const {
  S3Location out = *this;
  const std::string rest = strip_slashes(name);
  if (!rest.empty()) out.prefix = out.prefix.empty() ? rest : out.prefix + "/" + rest;
  return out;
}

bool is_s3_uri(std::string_view text) {
  return text.starts_with("s3://");
}

absl::StatusOr<S3Location> parse_s3_uri(std::string_view text) {
  if (!is_s3_uri(text)) {
    return absl::InvalidArgumentError(fmt::format("not an s3:// URI: {}", std::string(text)));
  }
  std::string_view rest = text.substr(5);
  const std::size_t slash = rest.find('/');
  S3Location location;
  location.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) location.prefix = strip_slashes(rest.substr(slash + 1));
  if (!plausible_bucket(location.bucket)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: bucket name must be 3-63 characters of a-z, 0-9, '.' and '-'", std::string(text)));
  }
  if (location.prefix.find("//") != std::string::npos) {
    return absl::InvalidArgumentError(
        fmt::format("{}: empty path component in the prefix", std::string(text)));
  }
  return location;
}

S3Cli::S3Cli(std::string endpoint_url, std::string aws_program)
    : endpoint_url_(std::move(endpoint_url)), aws_program_(std::move(aws_program)) {}

absl::Status S3Cli::check_available() const {
  if (find_on_path(aws_program_).empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "the AWS CLI ({}) is not on PATH; install it (Debian: apt-get install awscli, or run "
        "scripts/install-deps.sh)",
        aws_program_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> S3Cli::run(std::vector<std::string> args) const {
  if (absl::Status available = check_available(); !available.ok()) return available;
  std::vector<std::string> argv = {aws_program_, "s3"};
  argv.insert(argv.end(), args.begin(), args.end());
  if (!endpoint_url_.empty()) {
    argv.push_back("--endpoint-url");
    argv.push_back(endpoint_url_);
  }
  absl::StatusOr<ChildProcessResult> result = run_child_process(argv);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    std::string message(absl::StripAsciiWhitespace(result->standard_error));
    if (message.empty()) message = std::string(absl::StripAsciiWhitespace(result->standard_output));
    if (message.empty()) message = "(no output)";
    return absl::UnavailableError(fmt::format("`{}` failed with exit code {}: {}",
                                              join_command(argv), result->exit_code, message));
  }
  return std::move(result->standard_output);
}

absl::Status S3Cli::upload_directory(const std::string& local_dir, const S3Location& to) const {
  return run({"cp", "--recursive", "--only-show-errors", "--no-progress", local_dir, to.uri()})
      .status();
}

absl::Status S3Cli::upload_file(const std::string& local_file, const S3Location& to) const {
  std::string uri = to.uri();
  if (uri.ends_with('/')) uri.pop_back();
  return run({"cp", "--only-show-errors", "--no-progress", local_file, uri}).status();
}

absl::Status S3Cli::download_directory(const S3Location& from, const std::string& local_dir) const {
  return run({"cp", "--recursive", "--only-show-errors", "--no-progress", from.uri(), local_dir})
      .status();
}

absl::Status S3Cli::download_file(const S3Location& from, const std::string& local_file) const {
  std::string uri = from.uri();
  if (uri.ends_with('/')) uri.pop_back();
  absl::StatusOr<std::string> out =
      run({"cp", "--only-show-errors", "--no-progress", uri, local_file});
  if (!out.ok()) {
    const std::string message(out.status().message());
    if (message.find("(404)") != std::string::npos ||
        message.find("NoSuchKey") != std::string::npos) {
      return absl::NotFoundError(message);
    }
    return out.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> S3Cli::list_folders(const S3Location& at) const {
  if (absl::Status available = check_available(); !available.ok()) return available;
  std::vector<std::string> argv = {aws_program_, "s3", "ls", at.uri()};
  if (!endpoint_url_.empty()) {
    argv.push_back("--endpoint-url");
    argv.push_back(endpoint_url_);
  }
  absl::StatusOr<ChildProcessResult> result = run_child_process(argv);
  if (!result.ok()) return result.status();
  // `aws s3 ls` exits 1 with nothing on stderr when the prefix matches no object.
  const std::string errors(absl::StripAsciiWhitespace(result->standard_error));
  if (result->exit_code != 0 && !(result->exit_code == 1 && errors.empty())) {
    return absl::UnavailableError(fmt::format("`{}` failed with exit code {}: {}",
                                              join_command(argv), result->exit_code, errors));
  }
  std::vector<std::string> folders;
  for (absl::string_view line : absl::StrSplit(result->standard_output, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "PRE ")) continue;
    absl::string_view name = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&name, "/");
    if (!name.empty()) folders.emplace_back(name);
  }
  return folders;
}

absl::Status S3Cli::remove_recursive(const S3Location& at) const {
  return run({"rm", "--recursive", "--only-show-errors", at.uri()}).status();
}

}  // namespace qt::persist
