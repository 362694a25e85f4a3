#include "gateway/capital/protocol/decimal.hpp"

#include <ostream>

namespace qt::capital {

std::string to_string(Decimal value) {
  char text[kMaxDecimalChars];
  return std::string(text, format_decimal(value, text));
}

std::ostream& operator<<(std::ostream& out, Decimal value) {
  char text[kMaxDecimalChars];
  return out.write(text, format_decimal(value, text) - text);
}

}  // namespace qt::capital
