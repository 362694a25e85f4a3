// JSON → messages. simdjson's DOM parser first validates the whole document, so malformed or
// truncated JSON is refused wherever it is broken; the fields are then read with simdjson's
// on-demand API over the same text, which keeps each number's own text: Decimal fields get every
// digit, never a double. Error-code API only (no exceptions leave this file).
#include "gateway/capital/protocol/parse.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gateway/capital/protocol/schema.hpp"

namespace qt::capital {
namespace {

namespace dom = simdjson::dom;
namespace od = simdjson::ondemand;
using schema::IsOptional;
using schema::IsStringMap;
using schema::IsVector;
using schema::Keys;
using schema::Need;
using schema::OrderedStringPairs;
using simdjson::SUCCESS;

// Walks one document. The first failure is kept; every later call is a no-op, so describe()
// bodies need no error plumbing. Each value is read once, right after its lookup (on-demand).
class Reader {
 public:
  explicit Reader(std::string_view kind) : kind_(kind) {}

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

  // The document's root object becomes the current object.
  bool enter_root(od::document& document) {
    if (document.get_object().get(current_) != SUCCESS) {
      fail(fmt::format("Capital.com {}: expected a JSON object", kind_));
      return false;
    }
    return true;
  }

  template <class T>
  void read_root(T& out) {
    schema::describe(*this, out);
  }

  template <class T>
  void field(Keys keys, T& out, Need need = Need::kOptional) {
    if (!ok()) return;
    od::value element;
    std::string_view used;
    if (!lookup(keys, element, used)) {
      if (need == Need::kRequired) fail_missing(keys.current);
      return;
    }
    const std::size_t mark = path_.size();
    append_key(used);
    read(element, out);
    path_.resize(mark);
  }

  // The member `key` of the current object, absent when missing or null. Use it before the
  // next lookup.
  bool member(std::string_view key, od::value& out) {
    std::string_view used;
    return lookup(Keys(key), out, used);
  }

  // Runs `body` with `element` (an object) as the current object and `key` on the path.
  template <class F>
  void enter(std::string_view key, od::value& element, F&& body) {
    if (!ok()) return;
    od::object object;
    const std::size_t mark = path_.size();
    append_key(key);
    if (element.get_object().get(object) != SUCCESS) {
      fail_type("an object");
    } else {
      const od::object saved = current_;
      current_ = object;
      body();
      current_ = saved;
    }
    path_.resize(mark);
  }

  void fail_missing(std::string_view key) {
    fail(fmt::format("Capital.com {}: missing required field '{}'", kind_, joined(key)));
  }
  void fail_type(std::string_view expected) {
    fail(fmt::format("Capital.com {}: field '{}' must be {}", kind_, path_, expected));
  }
  void fail_value(std::string_view text) {
    // Only enum texts reach here (never a credential); cut to keep logs tidy.
    const std::string_view shown = text.substr(0, 40);
    fail(
        fmt::format("Capital.com {}: field '{}' has unexpected value \"{}\"", kind_, path_, shown));
  }
  void fail(std::string message) {
    if (ok()) status_ = absl::InvalidArgumentError(message);
  }

 private:
  bool lookup(Keys keys, od::value& out, std::string_view& used) {
    for (const std::string_view key : {keys.current, keys.legacy}) {
      if (key.empty()) continue;
      bool null = false;
      if (current_.find_field_unordered(key).get(out) == SUCCESS &&
          out.is_null().get(null) == SUCCESS && !null) {
        used = key;
        return true;
      }
    }
    return false;
  }

  std::string joined(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  void append_key(std::string_view key) {
    if (!path_.empty()) path_ += '.';
    path_ += key;
  }

  void read(od::value& e, std::string& out) {
    std::string_view text;
    if (e.get_string().get(text) != SUCCESS) return fail_type("a string");
    out.assign(text);
  }

  void read(od::value& e, double& out) {
    if (e.get_double().get(out) != SUCCESS) fail_type("a number");
  }

  // The number's own text, digit by digit (the token runs up to the next structural character,
  // so trailing whitespace is cut). get_double() checks that it is a number and moves past it.
  void read(od::value& e, Decimal& out) {
    std::string_view token = e.raw_json_token();
    token = token.substr(0, token.find_last_not_of(" \t\n\r") + 1);
    double checked = 0;
    if (e.get_double().get(checked) != SUCCESS) return fail_type("a number");
    if (parse_decimal(token, out) != DecimalStatus::kOk) {
      fail_type("a number whose integer part fits in 64 bits");
    }
  }

  void read(od::value& e, int64_t& out) {
    if (e.get_int64().get(out) == SUCCESS) return;
    double value = 0;
    // 1.6e12 or 20.0 are integers written as decimals: accept them when exact.
    if (e.get_double().get(value) == SUCCESS && std::trunc(value) == value &&
        std::fabs(value) < 9.0e15) {
      out = static_cast<int64_t>(value);
      return;
    }
    fail_type("an integer");
  }

  void read(od::value& e, int32_t& out) {
    int64_t wide = 0;
    read(e, wide);
    if (!ok()) return;
    if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
      return fail_type("a 32-bit integer");
    }
    out = static_cast<int32_t>(wide);
  }

  void read(od::value& e, bool& out) {
    if (e.get_bool().get(out) != SUCCESS) fail_type("true or false");
  }

  template <class E>
  requires std::is_enum_v<E>
  void read(od::value& e, E& out) {
    std::string_view text;
    if (e.get_string().get(text) != SUCCESS) return fail_type("a string");
    if (from_string(text, out)) return;
    if constexpr (schema::kTolerantEnum<E>) {
      out = E{};
    } else {
      fail_value(text);
    }
  }

  template <class T>
  requires IsOptional<T>::value void read(od::value& e, T& out) {
    out.emplace();
    read(e, *out);
  }

  // Each member of an object, in document order: (key, value).
  template <class F>
  void for_each_member(od::value& e, F&& each) {
    od::object object;
    if (e.get_object().get(object) != SUCCESS) return fail_type("an object");
    for (auto member : object) {
      od::field field;
      std::string_view key;
      if (std::move(member).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) {
        return fail_type("an object");
      }
      const std::size_t mark = path_.size();
      append_key(key);
      each(key, field.value());
      path_.resize(mark);
      if (!ok()) return;
    }
  }

  void read(od::value& e, OrderedStringPairs& out) {
    out.clear();
    for_each_member(e, [&](std::string_view key, od::value& value) {
      std::string text;
      read(value, text);
      if (ok()) out.emplace_back(std::string(key), std::move(text));
    });
  }

  template <class T>
  requires IsVector<T>::value void read(od::value& e, T& out) {
    od::array array;
    if (e.get_array().get(array) != SUCCESS) return fail_type("an array");
    out.clear();
    std::size_t index = 0;
    for (auto item : array) {
      typename T::value_type value{};
      const std::size_t mark = path_.size();
      path_ += fmt::format("[{}]", index++);
      od::value element;
      if (std::move(item).get(element) != SUCCESS) {
        fail_type("a JSON value");
      } else {
        read(element, value);
      }
      path_.resize(mark);
      if (!ok()) return;
      out.push_back(std::move(value));
    }
  }

  template <class T>
  requires IsStringMap<T>::value void read(od::value& e, T& out) {
    out.clear();
    for_each_member(e, [&](std::string_view key, od::value& element) {
      typename T::mapped_type value{};
      read(element, value);
      if (ok()) out[std::string(key)] = std::move(value);
    });
  }

  template <class T>
  requires schema::Describable<Reader, T>
  void read(od::value& e, T& out) {
    od::object object;
    if (e.get_object().get(object) != SUCCESS) return fail_type("an object");
    const od::object saved = current_;
    current_ = object;
    schema::describe(*this, out);
    current_ = saved;
  }

  std::string_view kind_;
  od::object current_;
  std::string path_;
  absl::Status status_;
};

// Validates `json` and hands its on-demand document to `body`. Malformed JSON is
// InvalidArgument carrying simdjson's reason, never the input text. The parsers keep their
// buffers between calls (one pair per thread).
template <class F>
absl::Status with_document(std::string_view json, std::string_view kind, F&& body) {
  thread_local dom::parser validator;
  thread_local od::parser reader;
  const simdjson::padded_string padded(json);
  auto malformed = [&](simdjson::error_code error) {
    return absl::InvalidArgumentError(
        fmt::format("Capital.com {}: malformed JSON ({})", kind, simdjson::error_message(error)));
  };
  dom::element root;
  if (const auto error = validator.parse(padded).get(root); error != SUCCESS) {
    return malformed(error);
  }
  od::document document;
  if (const auto error = reader.iterate(padded).get(document); error != SUCCESS) {
    return malformed(error);
  }
  return body(document);
}

template <class T>
absl::StatusOr<T> parse_described(std::string_view json, std::string_view kind) {
  T out{};
  absl::Status status = with_document(json, kind, [&](od::document& document) {
    Reader reader(kind);
    if (reader.enter_root(document)) reader.read_root(out);
    return reader.status();
  });
  if (!status.ok()) return status;
  return out;
}

ErrorBody split_error_code(std::string_view text) {
  ErrorBody body;
  const std::size_t colon = text.find(": ");
  if (colon == std::string_view::npos) {
    body.code.assign(text);
  } else {
    body.code.assign(text.substr(0, colon));
    body.detail.assign(text.substr(colon + 2));
  }
  return body;
}

// correlationId: "7" or 7.
void read_correlation_id(Reader& reader, std::string& out) {
  od::value element;
  if (!reader.member("correlationId", element)) return;
  std::string_view text;
  int64_t number = 0;
  if (element.get_string().get(text) == simdjson::SUCCESS) {
    out.assign(text);
  } else if (element.get_int64().get(number) == simdjson::SUCCESS) {
    out = std::to_string(number);
  } else {
    reader.fail("Capital.com WS message: field 'correlationId' must be a string or an integer");
  }
}

bool is_subscription(WsDestination d) {
  return d == WsDestination::kMarketDataSubscribe || d == WsDestination::kMarketDataUnsubscribe ||
         d == WsDestination::kOhlcSubscribe || d == WsDestination::kOhlcUnsubscribe;
}

}  // namespace

#define QT_CAPITAL_PARSER(Type, function, kind)          \
  absl::StatusOr<Type> function(std::string_view json) { \
    return parse_described<Type>(json, kind);            \
  }

QT_CAPITAL_PARSER(SessionLoginRequest, parse_session_login_request, "session login request")
QT_CAPITAL_PARSER(SessionCreateResponse, parse_session_create_response, "session response")
QT_CAPITAL_PARSER(SessionDetails, parse_session_details, "session details")
QT_CAPITAL_PARSER(SwitchAccountRequest, parse_switch_account_request, "account switch request")
QT_CAPITAL_PARSER(SwitchAccountResponse, parse_switch_account_response, "account switch response")
QT_CAPITAL_PARSER(EncryptionKeyResponse, parse_encryption_key_response, "encryption key")
QT_CAPITAL_PARSER(StatusResponse, parse_status_response, "status response")
QT_CAPITAL_PARSER(ServerTimeResponse, parse_server_time_response, "server time")
QT_CAPITAL_PARSER(AccountsResponse, parse_accounts_response, "accounts list")
QT_CAPITAL_PARSER(AccountPreferences, parse_account_preferences, "account preferences")
QT_CAPITAL_PARSER(UpdatePreferencesRequest, parse_update_preferences_request,
                  "preferences update request")
QT_CAPITAL_PARSER(MarketSearchResponse, parse_market_search_response, "markets list")
QT_CAPITAL_PARSER(MarketDetails, parse_market_details, "market details")
QT_CAPITAL_PARSER(MarketDetailsListResponse, parse_market_details_list_response,
                  "market details list")
QT_CAPITAL_PARSER(PriceHistory, parse_price_history, "price history")
QT_CAPITAL_PARSER(CreatePositionRequest, parse_create_position_request, "create position request")
QT_CAPITAL_PARSER(AmendPositionRequest, parse_amend_position_request, "amend position request")
QT_CAPITAL_PARSER(CreateWorkingOrderRequest, parse_create_working_order_request,
                  "create working order request")
QT_CAPITAL_PARSER(AmendWorkingOrderRequest, parse_amend_working_order_request,
                  "amend working order request")
QT_CAPITAL_PARSER(DealReferenceResponse, parse_deal_reference_response, "deal reference")
QT_CAPITAL_PARSER(PositionsResponse, parse_positions_response, "positions list")
QT_CAPITAL_PARSER(PositionItem, parse_position_item, "position")
QT_CAPITAL_PARSER(WorkingOrdersResponse, parse_working_orders_response, "working orders list")
QT_CAPITAL_PARSER(DealConfirmation, parse_deal_confirmation, "deal confirmation")
QT_CAPITAL_PARSER(ActivityHistoryResponse, parse_activity_history_response, "activity history")

#undef QT_CAPITAL_PARSER

int64_t parse_broker_utc_ms(std::string_view text) {
  std::tm tm{};
  int millis = 0;
  const std::string copy(text);
  const int fields = std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon,
                                 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis);
  if (fields < 6) return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (fields == 7 ? millis : 0);
}

absl::StatusOr<ErrorBody> parse_error_body(std::string_view json) {
  std::string text;
  absl::Status status = with_document(json, "error body", [&](od::document& document) {
    Reader reader("error body");
    if (reader.enter_root(document)) reader.field("errorCode", text, Need::kRequired);
    return reader.status();
  });
  if (!status.ok()) return status;
  return split_error_code(text);
}

absl::StatusOr<WsRequest> parse_ws_request(std::string_view json) {
  constexpr std::string_view kKind = "WS request";
  WsRequest out;
  absl::Status status = with_document(json, kKind, [&](od::document& document) {
    Reader reader(kKind);
    if (!reader.enter_root(document)) return reader.status();
    std::string destination;
    reader.field("destination", destination, Need::kRequired);
    if (!reader.ok()) return reader.status();
    if (!from_string(destination, out.destination) || out.destination == WsDestination::kQuote ||
        out.destination == WsDestination::kOhlcEvent) {
      return absl::InvalidArgumentError(fmt::format(
          "Capital.com {}: unknown request destination \"{}\"", kKind, destination.substr(0, 40)));
    }
    read_correlation_id(reader, out.correlation_id);
    reader.field("cst", out.cst, Need::kRequired);
    reader.field("securityToken", out.security_token, Need::kRequired);
    if (!is_subscription(out.destination)) return reader.status();  // ping: no payload
    od::value payload;
    if (!reader.member("payload", payload)) {
      reader.fail_missing("payload");
      return reader.status();
    }
    reader.enter("payload", payload, [&] {
      reader.field("epics", out.epics, Need::kRequired);
      if (out.destination == WsDestination::kOhlcSubscribe ||
          out.destination == WsDestination::kOhlcUnsubscribe) {
        reader.field("resolutions", out.resolutions);
      }
      if (out.destination == WsDestination::kOhlcSubscribe) reader.field("type", out.ohlc_type);
      if (out.destination == WsDestination::kOhlcUnsubscribe) {
        reader.field("types", out.ohlc_types);
      }
    });
    return reader.status();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<WsServerMessage> parse_ws_server_message(std::string_view json) {
  constexpr std::string_view kKind = "WS message";
  WsServerMessage out;
  absl::Status status = with_document(json, kKind, [&](od::document& document) {
    Reader reader(kKind);
    if (!reader.enter_root(document)) return reader.status();
    std::string status_text = "OK";
    std::string destination_text;
    std::string correlation_id;
    reader.field("status", status_text);
    reader.field("destination", destination_text, Need::kRequired);
    read_correlation_id(reader, correlation_id);
    if (!reader.ok()) return reader.status();
    od::value payload;
    const bool has_payload = reader.member("payload", payload);

    if (status_text != "OK") {
      WsErrorReply error{destination_text, correlation_id, {}};
      od::json_type type{};
      if (has_payload && payload.type().get(type) == SUCCESS && type == od::json_type::object) {
        std::string code;
        reader.enter("payload", payload, [&] { reader.field("errorCode", code); });
        error.error = split_error_code(code);
      }
      out = std::move(error);
      return reader.status();
    }

    WsDestination destination = WsDestination::kUnknown;
    if (!from_string(destination_text, destination)) {
      return absl::InvalidArgumentError(fmt::format("Capital.com {}: unknown destination \"{}\"",
                                                    kKind, destination_text.substr(0, 40)));
    }
    auto require_payload = [&]() {
      if (!has_payload) reader.fail_missing("payload");
      return has_payload;
    };
    switch (destination) {
      case WsDestination::kQuote: {
        WsQuote quote;
        if (require_payload()) {
          reader.enter("payload", payload, [&] { schema::describe(reader, quote); });
        }
        out = std::move(quote);
        break;
      }
      case WsDestination::kOhlcEvent: {
        WsOhlcBar bar;
        if (require_payload()) {
          reader.enter("payload", payload, [&] { schema::describe(reader, bar); });
        }
        out = std::move(bar);
        break;
      }
      case WsDestination::kPing: out = WsPingReply{correlation_id}; break;
      default: {  // the four (un)subscribe acknowledgements
        WsSubscriptionReply reply{destination, correlation_id, {}};
        if (has_payload) {
          reader.enter("payload", payload,
                       [&] { reader.field("subscriptions", reply.subscriptions); });
        }
        out = std::move(reply);
        break;
      }
    }
    return reader.status();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace qt::capital
