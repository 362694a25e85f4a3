// URL dispatch of the simulated broker: unauthenticated endpoints, the user's request limit,
// session check, then the resource; see broker_state.hpp.
#include "absl/strings/str_split.h"
#include "sim/broker_state.hpp"

namespace qt::sim {

BrokerResponse BrokerState::handle(const BrokerRequest& r) {
  static constexpr std::string_view kPrefix = "/api/v1/";
  if (r.path.compare(0, kPrefix.size(), kPrefix) != 0) return error(404, "error.not-found.path");
  const std::vector<std::string> seg =
      absl::StrSplit(r.path.substr(kPrefix.size()), '/', absl::SkipEmpty());
  if (seg.empty()) return error(404, "error.not-found.path");
  const std::string& root = seg[0];
  const std::string& method = r.method;

  // Unauthenticated endpoints.
  if (root == "time" && seg.size() == 1 && method == "GET") {
    JsonWriter w;
    w.begin_object().member("serverTime", epoch_ms_now()).end_object();
    return json_ok(w.take());
  }
  if (root == "session" && seg.size() == 1 && method == "POST") return login(r);
  if (root == "session" && seg.size() == 2 && seg[1] == "encryptionKey" && method == "GET") {
    return encryption_key_response(r);
  }

  // The broker counts a request against the user's budget before it looks at the tokens: one
  // refused with 401 (expired session, bad token) spends budget as a good one does, so a client
  // that retries 401s blindly earns 429s (capital-api.md section 7: every request counts).
  if (!allow_request()) return too_many();
  BrokerResponse failure;
  Session* session = authenticate(r, failure);
  if (session == nullptr) return failure;
  BrokerResponse response = route(r, seg, *session);
  // A session deleted by the request (logout) is not echoed.
  if (const auto it = sessions.find(*r.cst); it != sessions.end()) {
    response.cst = it->second.cst;
    response.security_token = it->second.security_token;
  }
  return response;
}

BrokerResponse BrokerState::route(const BrokerRequest& r, const std::vector<std::string>& seg,
                                  Session& session) {
  const std::string& root = seg[0];
  const std::string& method = r.method;
  const std::size_t n = seg.size();
  Account& account = *find_account(session.account_id);
  if (root == "ping" && n == 1 && method == "GET") return json_ok(R"({"status":"OK"})");
  if (root == "session" && n == 1) {
    if (method == "GET") return session_details(session);
    if (method == "PUT") return switch_account(r, session);
    if (method == "DELETE") {
      sessions.erase(session.cst);
      return json_ok(R"({"status":"SUCCESS"})");
    }
  }
  if (root == "accounts") {
    if (n == 1 && method == "GET") return accounts_list();
    if (n == 2 && seg[1] == "preferences" && method == "GET") return preferences(account);
    if (n == 2 && seg[1] == "preferences" && method == "PUT") {
      return update_preferences(r, account);
    }
    if (n == 2 && seg[1] == "topUp" && method == "POST") return top_up(r, account);
  }
  if (root == "history" && n == 2 && method == "GET") {
    if (seg[1] == "activity") return activity_history(r, account);
    if (seg[1] == "transactions") return transaction_history(r);
  }
  if (root == "marketnavigation" && method == "GET") {
    return n == 1 ? navigation_root() : navigation_node(r, seg[1]);
  }
  if (root == "markets" && method == "GET") {
    return n == 1 ? markets_query(r) : market_details(seg[1]);
  }
  if (root == "prices" && n == 2 && method == "GET") return prices(r, seg[1]);
  if (root == "clientsentiment" && method == "GET") {
    return client_sentiment(r, n == 2 ? seg[1] : "");
  }
  if (root == "positions") {
    if (n == 1 && method == "GET") return positions_list(account);
    if (n == 1 && method == "POST") return open_position(r, account);
    if (n == 2 && method == "GET") return position_one(account, seg[1]);
    if (n == 2 && method == "PUT") return amend_position(r, account, seg[1]);
    if (n == 2 && method == "DELETE") return close_position(account, seg[1]);
  }
  if (root == "workingorders") {
    if (n == 1 && method == "GET") return working_orders_list(account);
    if (n == 1 && method == "POST") return create_working_order(r, account);
    if (n == 2 && method == "PUT") return amend_working_order(r, account, seg[1]);
    if (n == 2 && method == "DELETE") return delete_working_order(account, seg[1]);
  }
  if (root == "confirms" && n == 2 && method == "GET") return confirm(seg[1]);
  return error(404, "error.not-found.path");
}

}  // namespace qt::sim
