// Messages → JSON, walking the same schema as the parsers.
#include "gateway/capital/protocol/write.hpp"

#include <map>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/json_writer.hpp"
#include "gateway/capital/protocol/schema.hpp"

namespace qt::capital {
namespace {

using schema::IsOptional;
using schema::IsStringMap;
using schema::IsVector;
using schema::Keys;
using schema::Need;
using schema::OrderedStringPairs;

class Writer {
 public:
  explicit Writer(FieldNaming naming = FieldNaming::kCurrent) : naming_(naming) {}

  JsonWriter& json() { return json_; }

  template <class T>
  void field(Keys keys, const T& value, Need = Need::kOptional) {
    if constexpr (IsOptional<T>::value) {
      if (!value.has_value()) return;
    }
    const bool legacy = naming_ == FieldNaming::kLegacy2022 && !keys.legacy.empty();
    json_.key(legacy ? keys.legacy : keys.current);
    write(value);
  }

  // Writes a described message as one object.
  template <class T>
  void write_record(const T& value) {
    json_.begin_object();
    // describe() takes T& for the reader's sake; the writer only reads through it.
    schema::describe(*this, const_cast<T&>(value));
    json_.end_object();
  }

  template <class T>
  void write(const T& value) {
    if constexpr (std::is_same_v<T, std::string>) {
      json_.string(value);
    } else if constexpr (std::is_same_v<T, bool>) {
      json_.boolean(value);
    } else if constexpr (std::is_same_v<T, double>) {
      json_.number(value);
    } else if constexpr (std::is_same_v<T, Decimal>) {
      char text[kMaxDecimalChars];
      json_.raw(std::string_view(text, format_decimal(value, text)));
    } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int32_t>) {
      json_.integer(value);
    } else if constexpr (std::is_enum_v<T>) {
      json_.string(to_string(value));
    } else if constexpr (IsOptional<T>::value) {
      write(*value);
    } else if constexpr (std::is_same_v<T, OrderedStringPairs>) {
      json_.begin_object();
      for (const auto& [key, text] : value) json_.key(key).string(text);
      json_.end_object();
    } else if constexpr (IsVector<T>::value) {
      json_.begin_array();
      for (const auto& item : value) write(item);
      json_.end_array();
    } else if constexpr (IsStringMap<T>::value) {
      json_.begin_object();
      for (const auto& [key, item] : value) {
        json_.key(key);
        write(item);
      }
      json_.end_object();
    } else {
      write_record(value);
    }
  }

 private:
  FieldNaming naming_;
  JsonWriter json_;
};

template <class T>
std::string described_json(const T& value, FieldNaming naming = FieldNaming::kCurrent) {
  Writer writer(naming);
  writer.write_record(value);
  return writer.json().take();
}

// {"status":"OK","destination":"...","correlationId":"...","payload":
void begin_reply(JsonWriter& json, std::string_view status, std::string_view destination,
                 const std::string* correlation_id) {
  json.begin_object().key("status").string(status).key("destination").string(destination);
  if (correlation_id != nullptr) json.key("correlationId").string(*correlation_id);
  json.key("payload");
}

}  // namespace

std::string to_json(const SessionLoginRequest& m) {
  return described_json(m);
}
std::string to_json(const SessionCreateResponse& m) {
  return described_json(m);
}
std::string to_json(const SessionDetails& m) {
  return described_json(m);
}
std::string to_json(const SwitchAccountRequest& m) {
  return described_json(m);
}
std::string to_json(const SwitchAccountResponse& m) {
  return described_json(m);
}
std::string to_json(const EncryptionKeyResponse& m) {
  return described_json(m);
}
std::string to_json(const StatusResponse& m) {
  return described_json(m);
}
std::string to_json(const ServerTimeResponse& m) {
  return described_json(m);
}
std::string to_json(const AccountsResponse& m) {
  return described_json(m);
}
std::string to_json(const AccountPreferences& m) {
  return described_json(m);
}
std::string to_json(const UpdatePreferencesRequest& m) {
  return described_json(m);
}
std::string to_json(const MarketSearchResponse& m) {
  return described_json(m);
}
std::string to_json(const MarketDetails& m, FieldNaming naming) {
  return described_json(m, naming);
}
std::string to_json(const MarketDetailsListResponse& m, FieldNaming naming) {
  return described_json(m, naming);
}
std::string to_json(const PriceHistory& m) {
  return described_json(m);
}
std::string to_json(const CreatePositionRequest& m) {
  return described_json(m);
}
std::string to_json(const AmendPositionRequest& m) {
  return described_json(m);
}
std::string to_json(const CreateWorkingOrderRequest& m) {
  return described_json(m);
}
std::string to_json(const AmendWorkingOrderRequest& m) {
  return described_json(m);
}
std::string to_json(const DealReferenceResponse& m) {
  return described_json(m);
}
std::string to_json(const PositionsResponse& m) {
  return described_json(m);
}
std::string to_json(const PositionItem& m) {
  return described_json(m);
}
std::string to_json(const WorkingOrdersResponse& m) {
  return described_json(m);
}
std::string to_json(const DealConfirmation& m) {
  return described_json(m);
}
std::string to_json(const ActivityHistoryResponse& m) {
  return described_json(m);
}

std::string to_json(const ErrorBody& m) {
  JsonWriter json;
  json.begin_object().key("errorCode").string(m.wire_text()).end_object();
  return json.take();
}

std::string to_json(const WsRequest& m) {
  JsonWriter json;
  json.begin_object()
      .key("destination")
      .string(to_string(m.destination))
      .key("correlationId")
      .string(m.correlation_id)
      .key("cst")
      .string(m.cst)
      .key("securityToken")
      .string(m.security_token);
  const bool ohlc = m.destination == WsDestination::kOhlcSubscribe ||
                    m.destination == WsDestination::kOhlcUnsubscribe;
  if (m.destination != WsDestination::kPing) {
    json.key("payload").begin_object().key("epics").begin_array();
    for (const std::string& epic : m.epics) json.string(epic);
    json.end_array();
    if (ohlc && !m.resolutions.empty()) {
      json.key("resolutions").begin_array();
      for (const std::string& resolution : m.resolutions) json.string(resolution);
      json.end_array();
    }
    if (m.destination == WsDestination::kOhlcSubscribe && m.ohlc_type.has_value()) {
      json.key("type").string(*m.ohlc_type);
    }
    if (m.destination == WsDestination::kOhlcUnsubscribe && !m.ohlc_types.empty()) {
      json.key("types").begin_array();
      for (const std::string& type : m.ohlc_types) json.string(type);
      json.end_array();
    }
    json.end_object();
  }
  json.end_object();
  return json.take();
}

std::string to_json(const WsSubscriptionReply& m) {
  JsonWriter json;
  begin_reply(json, "OK", to_string(m.destination), &m.correlation_id);
  json.begin_object().key("subscriptions").begin_object();
  for (const auto& [key, state] : m.subscriptions) json.key(key).string(state);
  json.end_object().end_object().end_object();
  return json.take();
}

std::string to_json(const WsPingReply& m) {
  JsonWriter json;
  begin_reply(json, "OK", "ping", &m.correlation_id);
  json.begin_object().end_object().end_object();
  return json.take();
}

std::string to_json(const WsQuote& m) {
  Writer writer;
  begin_reply(writer.json(), "OK", "quote", nullptr);
  writer.write_record(m);
  writer.json().end_object();
  return writer.json().take();
}

std::string to_json(const WsOhlcBar& m) {
  Writer writer;
  begin_reply(writer.json(), "OK", "ohlc.event", nullptr);
  writer.write_record(m);
  writer.json().end_object();
  return writer.json().take();
}

std::string to_json(const WsErrorReply& m) {
  JsonWriter json;
  begin_reply(json, "ERROR", m.destination, &m.correlation_id);
  json.begin_object();
  if (!m.error.code.empty()) json.key("errorCode").string(m.error.wire_text());
  json.end_object().end_object();
  return json.take();
}

std::string to_json(const WsServerMessage& m) {
  return std::visit([](const auto& message) { return to_json(message); }, m);
}

}  // namespace qt::capital
