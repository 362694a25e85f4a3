// The WebSocket messages: ping, market-data and OHLC subscriptions; see broker_state.hpp.
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "absl/strings/str_split.h"
#include "sim/broker_state.hpp"
#include "sim/json_body.hpp"

namespace qt::sim {

namespace dom = simdjson::dom;

std::vector<std::string> BrokerState::stream_message(std::string_view text,
                                                     StreamSubscriptions& subs) {
  dom::parser parser;
  dom::element root;
  std::string correlation;
  std::string destination;
  auto reply = [&](std::string_view status, const std::string& payload) {
    JsonWriter w;
    w.begin_object().member("status", status).member("destination", destination);
    w.member("correlationId", correlation).key("payload").raw(payload).end_object();
    return w.take();
  };
  auto failure = [&](std::string_view code) {
    return std::vector<std::string>{reply("ERROR", error_body(code))};
  };
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return failure("error.invalid.json");
  }
  std::string_view sv;
  if (root["destination"].get_string().get(sv) == simdjson::SUCCESS) destination = sv;
  dom::element corr;
  if (root["correlationId"].get(corr) == simdjson::SUCCESS) {
    if (corr.get_string().get(sv) == simdjson::SUCCESS) {
      correlation = sv;
    } else if (const auto n = JsonBody::number(corr)) {
      correlation = fmt::format("{}", static_cast<int64_t>(*n));
    }
  }
  std::string cst, token;
  if (root["cst"].get_string().get(sv) == simdjson::SUCCESS) cst = sv;
  if (root["securityToken"].get_string().get(sv) == simdjson::SUCCESS) token = sv;
  const auto session = sessions.find(cst);
  if (session == sessions.end() || session->second.security_token != token) {
    return failure("error.invalid.session.token");
  }
  if (subs.cst != cst) {
    subs.cst = cst;
    subs.session_epoch = session->second.epoch;
  }

  auto string_list = [&](const char* key, std::vector<std::string>& out) {
    dom::array array;
    if (root["payload"][key].get_array().get(array) != simdjson::SUCCESS) return false;
    for (const dom::element e : array) {
      if (e.get_string().get(sv) == simdjson::SUCCESS) out.emplace_back(sv);
    }
    return true;
  };

  if (destination == "ping") return {reply("OK", "{}")};
  if (destination == "marketData.subscribe" || destination == "marketData.unsubscribe") {
    std::vector<std::string> epics;
    if (!string_list("epics", epics)) return failure("error.null.epics");
    if (epics.size() > 40) return failure("error.invalid.epics.size");
    const bool subscribe = destination == "marketData.subscribe";
    JsonWriter w;
    w.begin_object().key("subscriptions").begin_object();
    std::vector<std::string> frames;
    for (const std::string& epic : epics) {
      const auto m = find_market(epic);
      if (!m) {
        w.member(epic, "ERROR");
        continue;
      }
      w.member(epic, "PROCESSED");
      if (subscribe) {
        subs.epics.insert(epic);
      } else {
        subs.epics.erase(epic);
      }
    }
    w.end_object().end_object();
    frames.insert(frames.begin(), reply("OK", w.take()));
    if (subscribe) {
      for (const std::string& epic : epics) {
        if (const auto m = find_market(epic); m && is_open(*m)) frames.push_back(quote_frame(*m));
      }
    }
    return frames;
  }
  if (destination == "OHLCMarketData.subscribe") {
    std::vector<std::string> epics, resolutions;
    if (!string_list("epics", epics)) return failure("error.null.epics");
    if (epics.size() > 40) return failure("error.invalid.epics.size");
    if (!string_list("resolutions", resolutions) || resolutions.empty()) {
      resolutions = {"MINUTE"};
    }
    std::string type = "classic";
    if (root["payload"]["type"].get_string().get(sv) == simdjson::SUCCESS) type = sv;
    if (type != "classic" && type != "heikin-ashi") return failure("error.invalid.type");
    for (const std::string& res : resolutions) {
      if (!parse_resolution(res)) return failure("error.invalid.resolution");
    }
    JsonWriter w;
    w.begin_object().key("subscriptions").begin_object();
    for (const std::string& epic : epics) {
      for (const std::string& res : resolutions) {
        const std::string key = epic + ":" + res + ":" + type;
        if (find_market(epic)) {
          subs.ohlc_keys.insert(key);
          w.member(key, "PROCESSED");
        } else {
          w.member(key, "ERROR");
        }
      }
    }
    w.end_object().end_object();
    return {reply("OK", w.take())};
  }
  if (destination == "OHLCMarketData.unsubscribe") {
    std::vector<std::string> epics, resolutions, types;
    if (!string_list("epics", epics)) return failure("error.null.epics");
    string_list("resolutions", resolutions);
    string_list("types", types);
    auto listed = [](const std::vector<std::string>& list, const std::string& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    JsonWriter w;
    w.begin_object().key("subscriptions").begin_object();
    for (auto it = subs.ohlc_keys.begin(); it != subs.ohlc_keys.end();) {
      const std::vector<std::string> parts = absl::StrSplit(*it, ':', absl::SkipEmpty());
      if (parts.size() == 3 && listed(epics, parts[0]) && listed(resolutions, parts[1]) &&
          listed(types, parts[2]) && !epics.empty()) {
        w.member(*it, "PROCESSED");
        it = subs.ohlc_keys.erase(it);
      } else {
        ++it;
      }
    }
    w.end_object().end_object();
    return {reply("OK", w.take())};
  }
  return failure("error.invalid.destination");
}

}  // namespace qt::sim
