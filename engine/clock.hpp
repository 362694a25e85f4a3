// Monotonic nanosecond clock used for every latency stamp on the pipeline, and the wall clock for
// what must compare across restarts. vDSO-backed clock_gettime: about 20 ns, no system call, no
// allocation, callable from any thread.
#pragma once

#include <time.h>

#include <cstdint>

namespace qt {

// A now_ns() instant that never comes: "no deadline".
inline constexpr int64_t kNoDeadline = INT64_MAX;

inline int64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Wall clock (CLOCK_REALTIME): comparable across restarts and with the venue's timestamps.
inline int64_t wall_now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t wall_epoch_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace qt
