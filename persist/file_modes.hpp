// The modes of the files the engine creates. Every file in a data directory or a backup —
// journal segments, snapshots, manifests, copies, the lock file — is created 0640: the owner
// writes, a backup or audit group may read, nobody else sees the book (the umask can only narrow
// it). Only the backup metrics file, which node-exporter reads, is 0644.
#pragma once

#include <sys/types.h>

namespace qt::persist {

inline constexpr mode_t kDataFileMode = 0640;
inline constexpr mode_t kPublicFileMode = 0644;

}  // namespace qt::persist
