// Atomic small-file replacement; see atomic_file.hpp.
#include "persist/atomic_file.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <string>
#include <system_error>

namespace qt::persist {
namespace {

absl::Status errno_status(std::string_view what, const std::filesystem::path& path, int error) {
  return absl::UnavailableError(fmt::format(
      "{} {}: {}", what, path.string(), std::error_code(error, std::generic_category()).message()));
}

absl::Status fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open", path, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return errno_status("fsync failed for", path, error);
  return absl::OkStatus();
}

}  // namespace

absl::Status fsync_directory(const std::filesystem::path& dir) {
  return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

absl::Status fsync_file(const std::filesystem::path& path) {
  return fsync_path(path, O_RDONLY);
}

absl::Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   mode_t mode) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::error_code ec;
  create_private_directories(dir, ec);
  if (ec)
    return absl::UnavailableError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  const std::filesystem::path temp =
      dir / fmt::format("{}.tmp.{}", path.filename().string(), ::getpid());
  ::unlink(temp.c_str());  // a leftover of a crashed writer keeps its mode; start afresh
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return errno_status("cannot create", temp, errno);
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return errno_status("cannot write", temp, error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return errno_status("fsync failed for", temp, error);
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return errno_status("cannot rename into place", path, error);
  }
  return fsync_directory(dir);
}

}  // namespace qt::persist
