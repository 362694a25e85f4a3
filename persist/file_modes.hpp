// The modes of the files the engine creates. Every file in a data directory or a backup —
// journal segments, snapshots, manifests, copies, the lock file — is created 0640 and every
// directory it creates there 0750: the owner writes, a backup or audit group may read, nobody
// else sees the book or its file names (the umask can only narrow it). Only the backup metrics
// file, which node-exporter reads, is 0644.
#pragma once

#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <system_error>

namespace qt::persist {

inline constexpr mode_t kDataFileMode = 0640;
inline constexpr mode_t kDataDirMode = 0750;
inline constexpr mode_t kPublicFileMode = 0644;

// std::filesystem::create_directories, except that each directory it creates is kDataDirMode;
// existing ones keep their mode.
inline void create_private_directories(const std::filesystem::path& path, std::error_code& ec) {
  ec.clear();
  std::filesystem::path prefix;
  for (const std::filesystem::path& part : path) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), kDataDirMode) == 0 || errno == EEXIST) continue;
    ec.assign(errno, std::generic_category());
    return;
  }
  if (!std::filesystem::is_directory(path, ec) && !ec) {
    ec = std::make_error_code(std::errc::not_a_directory);
  }
}

}  // namespace qt::persist
