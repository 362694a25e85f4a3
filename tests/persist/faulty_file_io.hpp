// A JournalFileIo that fails on demand, as a full or broken disk does: once told, every later
// call of one operation fails with the chosen errno (a full disk stays full); everything else
// reaches the system. Thread-safe: the writer's preparer thread calls it too.
//
// Header-only; tests only.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <string_view>

#include "persist/journal.hpp"

namespace qt::persist::test {

class FaultyFileIo final : public JournalFileIo {
 public:
  enum class Call : uint8_t { kOpen, kWrite, kFdatasync, kFsync, kFallocate, kCount };

  // Every `call` from now fails with `error`.
  void fail(Call call, int error) { slot(call).error.store(error, std::memory_order_release); }
  void heal() {
    for (Slot& s : slots_) s.error.store(0, std::memory_order_release);
  }
  // Runs once, on the failing call's thread, just before the first failure: what other threads
  // do while a system call blocks before it fails (a hung fdatasync). Set before the fault.
  std::function<void()> before_first_failure;

  uint64_t failures(Call call) const {
    return slots_[static_cast<std::size_t>(call)].failures.load(std::memory_order_acquire);
  }

  int open(const char* path, int flags, mode_t mode) override {
    if (refused(Call::kOpen)) return -1;
    return ::open(path, flags, mode);
  }
  ssize_t pwrite(int fd, const void* data, size_t size, off_t offset) override {
    if (refused(Call::kWrite)) return -1;
    return ::pwrite(fd, data, size, offset);
  }
  int fdatasync(int fd) override { return refused(Call::kFdatasync) ? -1 : ::fdatasync(fd); }
  int fsync(int fd) override { return refused(Call::kFsync) ? -1 : ::fsync(fd); }
  int posix_fallocate(int fd, off_t offset, off_t length) override {
    const int error = slot(Call::kFallocate).error.load(std::memory_order_acquire);
    if (error != 0) {
      about_to_fail();
      slot(Call::kFallocate).failures.fetch_add(1, std::memory_order_acq_rel);
      return error;  // as posix_fallocate does: the error, not -1
    }
    return ::posix_fallocate(fd, offset, length);
  }

 private:
  struct Slot {
    std::atomic<int> error{0};
    std::atomic<uint64_t> failures{0};
  };
  Slot& slot(Call call) { return slots_[static_cast<std::size_t>(call)]; }
  bool refused(Call call) {
    const int error = slot(call).error.load(std::memory_order_acquire);
    if (error == 0) return false;
    about_to_fail();
    slot(call).failures.fetch_add(1, std::memory_order_acq_rel);
    errno = error;
    return true;
  }
  void about_to_fail() {
    if (before_first_failure && !failed_once_.exchange(true)) before_first_failure();
  }
  std::array<Slot, static_cast<std::size_t>(Call::kCount)> slots_{};
  std::atomic<bool> failed_once_{false};
};

inline std::string_view name_of(FaultyFileIo::Call call) {
  switch (call) {
    case FaultyFileIo::Call::kOpen: return "open";
    case FaultyFileIo::Call::kWrite: return "write";
    case FaultyFileIo::Call::kFdatasync: return "fdatasync";
    case FaultyFileIo::Call::kFsync: return "fsync";
    case FaultyFileIo::Call::kFallocate: return "fallocate";
    case FaultyFileIo::Call::kCount: break;
  }
  return "?";
}

}  // namespace qt::persist::test
