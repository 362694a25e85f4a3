// libFuzzer target for the HTTP API's request routing and body parsing (issue 12): the input is
// "METHOD PATH?QUERY\n" followed by a body. Every route of the API is registered (with an engine
// that never runs), the request is routed as the server routes it, its path parameters and query
// decoded, and its body parsed as the route would parse it: POST /api/trade's order
// (parse_trade), the control bodies, and the generic JSON reader for anything else. No input
// may crash, hang or leak; ASan and UBSan watch.
//
// Build and run: `make fuzz-smoke` (clang, 20 s from tests/fuzz/corpus/http_request), or by
// hand: build/fuzz/tests/fuzz/http_request_fuzzer -max_total_time=600 CORPUS_DIR
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "gateway/http/json_body.hpp"
#include "gateway/http/order_entry.hpp"
#include "gateway/http/router.hpp"
#include "gateway/http/trading_routes.hpp"
#include "tests/engine_test_support.hpp"

namespace {

struct Api {
  qt::testing::EngineRig rig;
  std::unique_ptr<qt::http::OrderEntry> orders =
      std::make_unique<qt::http::OrderEntry>(qt::testing::test_instruments());
  qt::http::Router router;
  Api() {
    qt::http::TradingRoutesContext context;
    context.orders = orders.get();
    context.engine = &rig.engine->stats();
    context.instruments = qt::testing::test_instruments();
    (void)qt::http::add_trading_routes(router, std::move(context));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static Api* api = new Api();  // one for the whole run, like the server's router
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t line_end = input.find('\n');
  const std::string_view line = input.substr(0, line_end);
  const std::string_view body =
      line_end == std::string_view::npos ? std::string_view() : input.substr(line_end + 1);
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  const qt::http::Method method = qt::http::parse_method(line.substr(0, space));
  const std::string_view target = line.substr(space + 1);
  qt::http::Request request = qt::http::Request::for_test(method, target, body);
  const qt::http::RouteMatch match = api->router.match(method, request.path(), &request);
  (void)request.query_param("status");
  if (match.outcome != qt::http::RouteMatch::Outcome::kFound) return 0;
  (void)request.path_param("id");
  (void)request.path_param("epic");
  if (match.route->pattern == "/api/trade") {
    (void)qt::http::parse_trade(request.body(), qt::testing::test_instruments());
  } else {
    qt::http::JsonBody json(request.body());
    json.reject_unknown_fields({"engaged", "state"});
    (void)json.optional_boolean("engaged");
    (void)json.optional_one_of("state", {"ACTIVE", "REDUCING", "HALTED"});
    if (!json.ok()) (void)json.error();
  }
  return 0;
}
