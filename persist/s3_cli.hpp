// S3-compatible object storage through the `aws` command-line program (Debian package awscli):
// the backup and restore commands stage files locally and move whole folders with
// `aws s3 cp --recursive`, list with `aws s3 ls` and delete with `aws s3 rm --recursive`.
//
// Why the CLI and not an SDK: it is what operators already configure (profiles, AWS_* variables,
// instance roles, --endpoint-url for MinIO/s3rver) and it ships as a Debian package.
//
// Guarantees: every call runs the CLI through run_child_process (no shell), passing
// --endpoint-url when one is set and otherwise inheriting the AWS_* environment unchanged. A
// failing call returns an error carrying the command line and the CLI's stderr; a missing
// `aws` is a FailedPrecondition naming the package to install. Blocking; allocates.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace qt::persist {

// "s3://bucket/some/prefix" split into bucket and prefix (no leading or trailing '/').
struct S3Location {
  std::string bucket;
  std::string prefix;

  // "s3://bucket/prefix/child" (child may be empty, giving the location itself).
  std::string uri(std::string_view child = {}) const;
  // The location one level down.
  S3Location child(std::string_view name) const;
};

bool is_s3_uri(std::string_view text);
// InvalidArgument unless the text is s3://BUCKET[/PREFIX] with a plausible bucket name.
absl::StatusOr<S3Location> parse_s3_uri(std::string_view text);

class S3Cli {
 public:
  // aws_program: the CLI to run (searched on PATH). endpoint_url: empty for AWS itself.
  explicit S3Cli(std::string endpoint_url = {}, std::string aws_program = "aws");

  // OK when the CLI is on PATH, else FailedPrecondition with how to install it.
  absl::Status check_available() const;

  // Uploads the contents of local_dir under `to` (so local_dir/a/b lands at to/a/b).
  absl::Status upload_directory(const std::string& local_dir, const S3Location& to) const;
  absl::Status upload_file(const std::string& local_file, const S3Location& to) const;
  // Downloads every object under `from` into local_dir, keeping the relative paths.
  absl::Status download_directory(const S3Location& from, const std::string& local_dir) const;
  // NotFound when the object does not exist (a 404 from the service).
  absl::Status download_file(const S3Location& from, const std::string& local_file) const;
  // The names of the "folders" directly under `at` (the PRE lines of `aws s3 ls`), without the
  // trailing '/'. An empty or missing prefix is an empty list.
  absl::StatusOr<std::vector<std::string>> list_folders(const S3Location& at) const;
  // Deletes every object under `at`.
  absl::Status remove_recursive(const S3Location& at) const;

  const std::string& endpoint_url() const { return endpoint_url_; }

 private:
  absl::StatusOr<std::string> run(std::vector<std::string> args) const;

  std::string endpoint_url_;
  std::string aws_program_;
};

}  // namespace qt::persist
