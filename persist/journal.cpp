// JournalWriter and JournalAgent (work in progress: API only).
#include "persist/journal.hpp"

namespace qt::persist {

std::string_view to_string(Durability durability) {
  switch (durability) {
    case Durability::kAsync: return "async";
    case Durability::kGroup: return "group";
    case Durability::kSync: return "sync";
  }
  return "group";
}

absl::StatusOr<Durability> durability_from_string(std::string_view text) {
  if (text == "async") return Durability::kAsync;
  if (text == "group") return Durability::kGroup;
  if (text == "sync") return Durability::kSync;
  return absl::InvalidArgumentError("durability must be one of async, group, sync; got \"" +
                                    std::string(text) + "\"");
}

}  // namespace qt::persist
