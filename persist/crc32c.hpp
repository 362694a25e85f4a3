// CRC32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41, reflected), as used by every journal
// record and segment header. Uses the SSE4.2 crc32 instruction when the CPU has it (checked once
// at start-up) and a table otherwise; both give identical results (tested against RFC 3720's
// vectors). Pure functions: no allocation, callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qt::persist {

// The CRC of `data` appended to a stream whose CRC so far is `crc` (0 for an empty stream):
// crc32c_extend(crc32c(a), b) == crc32c(a + b).
uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t size) noexcept;
inline uint32_t crc32c(const void* data, std::size_t size) noexcept {
  return crc32c_extend(0, data, size);
}

// The two implementations, for tests and benchmarks. crc32c_extend_hardware() may only be
// called when crc32c_hardware_available().
bool crc32c_hardware_available() noexcept;
uint32_t crc32c_extend_hardware(uint32_t crc, const void* data, std::size_t size) noexcept;
uint32_t crc32c_extend_table(uint32_t crc, const void* data, std::size_t size) noexcept;

}  // namespace qt::persist
