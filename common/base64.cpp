// base64 over OpenSSL's EVP block codec; see base64.hpp.
#include "common/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace qt {
namespace {

// EVP_*Block take an int length; larger inputs go through in whole groups of this many bytes.
constexpr std::size_t kChunkBytes = 3 << 20;  // a multiple of 3 (encode) and 4 (decode)

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_symbol(char c) {  // the alphabet or the padding
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  std::size_t written = 0;
  for (std::size_t from = 0; from < bytes.size(); from += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, bytes.size() - from);
    // Writes 4 * ceil(n / 3) characters and a NUL, which lands on out's own terminator or on
    // the next chunk's first character.
    written += static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + written),
        reinterpret_cast<const unsigned char*>(bytes.data() + from), static_cast<int>(n)));
  }
  out.resize(written);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string symbols;
  symbols.reserve(text.size());
  for (const char c : text) {
    if (is_ascii_space(c)) continue;
    // Checked here: EVP_DecodeBlock would silently drop trailing '-' (its PEM end marker).
    if (!is_symbol(c)) return std::nullopt;
    symbols.push_back(c);
  }
  if (symbols.size() % 4 != 0) return std::nullopt;
  // EVP_DecodeBlock reads '=' as a zero sextet anywhere, so the padding is checked here too: at
  // most two, only at the very end.
  const std::size_t data_end = symbols.find_last_not_of('=') + 1;  // npos + 1 == 0
  const std::size_t padding = symbols.size() - data_end;
  if (padding > 2 || symbols.find('=') < data_end) return std::nullopt;

  std::string out(symbols.size() / 4 * 3, '\0');
  std::size_t written = 0;
  for (std::size_t from = 0; from < symbols.size(); from += kChunkBytes) {
    const std::size_t n = std::min(kChunkBytes, symbols.size() - from);
    const int decoded = EVP_DecodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + written),
        reinterpret_cast<const unsigned char*>(symbols.data() + from), static_cast<int>(n));
    if (decoded < 0) return std::nullopt;
    written += static_cast<std::size_t>(decoded);
  }
  out.resize(written - padding);  // EVP_DecodeBlock counts each '=' as a decoded zero byte
  return out;
}

}  // namespace qt
