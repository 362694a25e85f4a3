// JournalReader, verify_journal, recover_journal (work in progress: API only).
#include "persist/journal_reader.hpp"

namespace qt::persist {

std::string_view to_string(DamageKind kind) {
  switch (kind) {
    case DamageKind::kNone: return "none";
    case DamageKind::kTornTail: return "torn tail";
    case DamageKind::kCorruption: return "corruption";
  }
  return "?";
}

}  // namespace qt::persist
