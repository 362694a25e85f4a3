// Replacing a small file so that a reader sees either the old or the new content, never a mix,
// and the new content survives a crash once the call returns: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
//
// Used for the backup `latest` pointer, manifests and the metrics file. Blocking; allocates.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"
#include "persist/file_modes.hpp"

namespace qt::persist {

// Creates the parent directory if missing. The temporary is "<name>.tmp.<pid>" beside the target
// (a name no collector or listing here treats as a real file).
absl::Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                   mode_t mode = kDataFileMode);

// fsync of a directory, making a rename or a new entry in it durable.
absl::Status fsync_directory(const std::filesystem::path& dir);

// fsync of a regular file by path.
absl::Status fsync_file(const std::filesystem::path& path);

}  // namespace qt::persist
