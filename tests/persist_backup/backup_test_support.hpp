// Test helpers for persistence, backup and restore tests, meant to be reused by other suites
// (e.g. a full-engine state-digest comparison): a scratch directory removed at the end of the
// test, small file helpers, and a fingerprint of a directory tree (to prove "untouched").
//
// Header-only; tests only (allocates, uses the filesystem freely).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "persist/backup_manifest.hpp"

namespace qt::persist::test {

// A fresh directory under the gtest temp dir, unique per process and instance, removed
// recursively on destruction (kept when the environment sets QT_KEEP_TEST_DIRS=1, for debugging).
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("qt_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    const char* keep = std::getenv("QT_KEEP_TEST_DIRS");
    if (keep == nullptr || std::string(keep) != "1") {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// Every entry under `root` (relative path -> SHA-256 of a file, "dir" for a directory), or an
// empty map when root does not exist. Equal fingerprints = nothing added, removed or changed.
inline std::map<std::string, std::string> tree_fingerprint(const std::filesystem::path& root) {
  std::map<std::string, std::string> entries;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return entries;
  entries["."] = "dir";
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string relative = std::filesystem::relative(it->path(), root).generic_string();
    entries[relative] =
        it->is_directory() ? std::string("dir") : sha256_file(it->path()).value().sha256;
  }
  return entries;
}

// Flips one byte of a file in place (XOR 0xFF), to simulate bit rot or tampering.
inline void flip_byte(const std::filesystem::path& path, std::streamoff offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(offset);
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0xFF);
  file.seekp(offset);
  file.write(&byte, 1);
}

}  // namespace qt::persist::test
