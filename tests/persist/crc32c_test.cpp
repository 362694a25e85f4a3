// CRC32C against the check values of RFC 3720 (iSCSI), appendix B.4, and the standard check
// value of "123456789"; both implementations, and extension over split input.
#include "persist/crc32c.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace qt::persist {
namespace {

struct Vector {
  const char* name;
  std::array<uint8_t, 48> bytes;
  std::size_t size;
  uint32_t crc;
};

std::array<uint8_t, 48> filled(uint8_t value) {
  std::array<uint8_t, 48> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = value;
  return out;
}
std::array<uint8_t, 48> ascending() {
  std::array<uint8_t, 48> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(i);
  return out;
}
std::array<uint8_t, 48> descending() {
  std::array<uint8_t, 48> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(31 - i);
  return out;
}

const Vector kRfc3720[] = {
    {"32 bytes of zeros", filled(0x00), 32, 0x8A9136AAu},
    {"32 bytes of 0xFF", filled(0xFF), 32, 0x62A8AB43u},
    {"32 ascending bytes", ascending(), 32, 0x46DD794Eu},
    {"32 descending bytes", descending(), 32, 0x113FDB5Cu},
    {"an iSCSI read command PDU",
     {0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
     48,
     0xD9963A56u},
};

TEST(Crc32c, TableImplementationMatchesRfc3720Vectors) {
  for (const Vector& v : kRfc3720) {
    EXPECT_EQ(crc32c_extend_table(0, v.bytes.data(), v.size), v.crc) << v.name;
  }
}

TEST(Crc32c, HardwareImplementationMatchesRfc3720Vectors) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  for (const Vector& v : kRfc3720) {
    EXPECT_EQ(crc32c_extend_hardware(0, v.bytes.data(), v.size), v.crc) << v.name;
  }
}

TEST(Crc32c, DispatchedImplementationMatchesRfc3720Vectors) {
  for (const Vector& v : kRfc3720) EXPECT_EQ(crc32c(v.bytes.data(), v.size), v.crc) << v.name;
}

TEST(Crc32c, CheckValueOf123456789IsE3069283) {
  constexpr std::string_view kCheck = "123456789";
  EXPECT_EQ(crc32c(kCheck.data(), kCheck.size()), 0xE3069283u);
  EXPECT_EQ(crc32c_extend_table(0, kCheck.data(), kCheck.size()), 0xE3069283u);
}

TEST(Crc32c, ExtendingOverSplitInputEqualsOnePass) {
  std::array<uint8_t, 203> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 37 + 11);
  const uint32_t whole = crc32c(data.data(), data.size());
  for (std::size_t split = 0; split <= data.size(); split += 7) {
    const uint32_t first = crc32c(data.data(), split);
    EXPECT_EQ(crc32c_extend(first, data.data() + split, data.size() - split), whole) << split;
    EXPECT_EQ(crc32c_extend_table(crc32c_extend_table(0, data.data(), split), data.data() + split,
                                  data.size() - split),
              whole)
        << split;
  }
}

TEST(Crc32c, HardwareAndTableAgreeOnEveryLengthAndAlignment) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  std::array<uint8_t, 300> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (std::size_t start = 0; start < 8; ++start) {
    for (std::size_t size = 0; start + size <= data.size(); size += 5) {
      EXPECT_EQ(crc32c_extend_hardware(0x1234u, data.data() + start, size),
                crc32c_extend_table(0x1234u, data.data() + start, size));
    }
  }
}

}  // namespace
}  // namespace qt::persist
