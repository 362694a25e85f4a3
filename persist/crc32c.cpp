// CRC32C: SSE4.2 instruction path with a byte-table fallback chosen once at start-up.
#include "persist/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace qt::persist {
namespace {

constexpr uint32_t kReflectedPolynomial = 0x82F63B78u;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kReflectedPolynomial : 0u);
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = make_table();

bool detect_hardware() noexcept {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

const bool kHardware = detect_hardware();

}  // namespace

bool crc32c_hardware_available() noexcept {
  return kHardware;
}

uint32_t crc32c_extend_table(uint32_t crc, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
  for (std::size_t i = 0; i < size; ++i) state = kTable[(state ^ p[i]) & 0xFFu] ^ (state >> 8);
  return ~state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_extend_hardware(uint32_t crc, const void* data,
                                                                  std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t state = ~crc;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    state = _mm_crc32_u64(state, word);
    p += 8;
    size -= 8;
  }
  auto state32 = static_cast<uint32_t>(state);
  while (size-- != 0) state32 = _mm_crc32_u8(state32, *p++);
  return ~state32;
}
#else
uint32_t crc32c_extend_hardware(uint32_t crc, const void* data, std::size_t size) noexcept {
  return crc32c_extend_table(crc, data, size);
}
#endif

uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t size) noexcept {
  return kHardware ? crc32c_extend_hardware(crc, data, size) : crc32c_extend_table(crc, data, size);
}

}  // namespace qt::persist
