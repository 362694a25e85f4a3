// Which allocator serves this process's malloc and operator new: mimalloc when the program links
// it (it then replaces both, as in the quanttrading binary), else glibc's malloc. Benchmarks
// print it so that a figure says what it was measured with. Header-only.
#pragma once

#include <string>

// Weak: null when the program does not link mimalloc.
extern "C" int mi_version(void) noexcept __attribute__((weak));

namespace qt::testing {

inline bool mimalloc_linked() noexcept {
  return mi_version != nullptr;
}

// "mimalloc 2.0.9" or "glibc malloc".
inline std::string process_allocator_name() {
  if (!mimalloc_linked()) return "glibc malloc";
  const int version = mi_version();  // major * 100 + minor * 10 + patch
  return "mimalloc " + std::to_string(version / 100) + "." + std::to_string(version / 10 % 10) +
         "." + std::to_string(version % 10);
}

}  // namespace qt::testing
