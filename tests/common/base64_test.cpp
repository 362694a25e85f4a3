// base64 over OpenSSL's EVP codec: the RFC 4648 test vectors, whitespace skipping, and every
// malformed input the decoder must refuse (including those EVP_DecodeBlock alone would accept).
#include "common/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace qt {
namespace {

TEST(Base64, Rfc4648TestVectors) {  // RFC 4648 section 10
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::string(plain)) << encoded;
  }
}

TEST(Base64, EveryByteValueRoundTrips) {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string_view prefix(bytes.data(), length);
    const std::string encoded = base64_encode(prefix);
    EXPECT_EQ(encoded.size(), (length + 2) / 3 * 4);
    EXPECT_EQ(base64_decode(encoded), std::string(prefix)) << length;
  }
}

TEST(Base64, InputsLargerThanOneOpenSslCallRoundTrip) {
  std::string bytes(7'000'001, '\0');  // more than two of the codec's 3 MiB chunks
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + i / 7);
  const std::string encoded = base64_encode(bytes);
  ASSERT_EQ(encoded.size(), (bytes.size() + 2) / 3 * 4);
  EXPECT_EQ(encoded.substr(encoded.size() - 4, 2).find('='), std::string::npos);
  EXPECT_EQ(base64_decode(encoded), bytes);
}

TEST(Base64, WhitespaceIsSkipped) {
  EXPECT_EQ(base64_decode("Zm9v\nYg=="), "foob");  // PEM-style line wrap
  EXPECT_EQ(base64_decode(" Zm9v\r\n\tYmFy \v\f"), "foobar");
  EXPECT_EQ(base64_decode(" \n "), "");
}

TEST(Base64, MalformedInputIsRefused) {
  for (const std::string_view bad : {
           "Zm9vY",         // length not a multiple of 4
           "Zm9v*mFy",      // character outside the alphabet
           "Zm9v-_Fy",      // the URL-safe alphabet is not this one
           "Zm9v----",      // EVP_DecodeBlock alone drops a trailing '-' (PEM's end marker)
           "Zg==Zg==",      // data after padding
           "Zm=v",          // '=' inside the data
           "Z===",          // three padding characters
           "====",          // padding only
           "Zm9v\x80YmE=",  // a byte outside ASCII
       }) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(base64_decode(std::string_view("Zm9v\0YmE=", 9)).has_value());
}

}  // namespace
}  // namespace qt
