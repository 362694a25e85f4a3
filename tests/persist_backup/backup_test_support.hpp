// Test helpers for persistence, backup and restore tests, meant to be reused by other suites
// (e.g. a full-engine state-digest comparison): the scratch directory and file helpers of
// tests/support/test_files.hpp, a fingerprint of a directory tree (to prove "untouched"), and
// byte damage.
//
// Header-only; tests only (allocates, uses the filesystem freely).
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "persist/backup_manifest.hpp"
#include "tests/support/test_files.hpp"

namespace qt::persist::test {

using qt::testing::read_file;
using qt::testing::ScratchDir;
using qt::testing::write_file;

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
