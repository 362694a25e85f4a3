// base64 (RFC 4648 section 4: standard alphabet, '=' padding) through OpenSSL's
// EVP_EncodeBlock / EVP_DecodeBlock — the one base64 of the tree (the encrypted-password login
// and the simulator's RSA key).
//
// base64_decode skips ASCII whitespace (PEM-style line wraps) and returns nullopt for any other
// character outside the alphabet, a length that is not a multiple of 4 after skipping, more than
// two '=' or data after a '='. Thread-safe; allocates the result only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qt {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace qt
