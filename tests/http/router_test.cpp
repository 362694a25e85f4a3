// Router: patterns, parameters, precedence, 404 vs 405, query strings, route metadata.
#include "gateway/http/router.hpp"

#include <gtest/gtest.h>

namespace qt::http {
namespace {

void no_op(const Request&, Responder) {}

Router orders_router() {
  Router router;
  EXPECT_TRUE(router.add(Method::kGet, "/api/orders", {}, no_op).ok());
  EXPECT_TRUE(
      router.add(Method::kGet, "/api/orders/{id}", RouteOptions().with_role(Role::kRead), no_op)
          .ok());
  EXPECT_TRUE(
      router.add(Method::kDelete, "/api/orders/{id}", RouteOptions().with_role(Role::kTrade), no_op)
          .ok());
  EXPECT_TRUE(router
                  .add(Method::kGet, "/api/orders/open",
                       RouteOptions().with_role(Role::kRead).with_label("open orders"), no_op)
                  .ok());
  EXPECT_TRUE(router
                  .add(Method::kPost, "/api/trade",
                       RouteOptions()
                           .with_role(Role::kTrade)
                           .with_rate_limit_scope("trade")
                           .with_json_body(),
                       no_op)
                  .ok());
  EXPECT_TRUE(router.add(Method::kGet, "/", {}, no_op).ok());
  return router;
}

TEST(Router, MatchesAParameterAndDecodesIt) {
  const Router router = orders_router();
  Request request = Request::for_test(Method::kGet, "/api/orders/A%2FB-17");
  const RouteMatch match = router.match(Method::kGet, request.path(), &request);
  ASSERT_EQ(match.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(match.route->pattern, "/api/orders/{id}");
  EXPECT_EQ(&request.route(), match.route);
  EXPECT_EQ(request.path_param("id"), "A/B-17");
  EXPECT_EQ(request.path_param("other"), "");
}

TEST(Router, ALiteralSegmentBeatsAParameter) {
  const Router router = orders_router();
  const RouteMatch open = router.match(Method::kGet, "/api/orders/open");
  ASSERT_EQ(open.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(open.route->pattern, "/api/orders/open");
  EXPECT_EQ(open.route->label, "open orders");
  // No DELETE on the literal: the parameter route of that method answers.
  const RouteMatch cancel = router.match(Method::kDelete, "/api/orders/open");
  ASSERT_EQ(cancel.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(cancel.route->pattern, "/api/orders/{id}");
}

TEST(Router, UnknownPathIsNotFound) {
  const Router router = orders_router();
  for (const char* path : {"/api/order", "/api/orders/1/fills", "/api/orders/", "/api//orders",
                           "/api/orders//", "", "api/orders", "/API/ORDERS"}) {
    EXPECT_EQ(router.match(Method::kGet, path).outcome, RouteMatch::Outcome::kNotFound) << path;
  }
}

TEST(Router, KnownPathWithAnotherMethodIsMethodNotAllowedWithAllow) {
  const Router router = orders_router();
  const RouteMatch match = router.match(Method::kPut, "/api/orders/17");
  EXPECT_EQ(match.outcome, RouteMatch::Outcome::kMethodNotAllowed);
  EXPECT_EQ(match.allow, "DELETE, GET, HEAD");
  EXPECT_EQ(router.match(Method::kGet, "/api/trade").allow, "POST");
}

TEST(Router, HeadUsesTheGetRoute) {
  const Router router = orders_router();
  const RouteMatch match = router.match(Method::kHead, "/api/orders");
  ASSERT_EQ(match.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(match.route->method, Method::kGet);
}

TEST(Router, RouteMetadataDefaultsToThePatternAndDefaultScope) {
  const Router router = orders_router();
  const RouteMatch one = router.match(Method::kGet, "/api/orders/17");
  EXPECT_EQ(one.route->label, "/api/orders/{id}");  // never the raw path
  EXPECT_EQ(one.route->rate_limit_scope, "default");
  EXPECT_EQ(one.route->min_role, Role::kRead);
  const RouteMatch trade = router.match(Method::kPost, "/api/trade");
  EXPECT_EQ(trade.route->rate_limit_scope, "trade");
  EXPECT_TRUE(trade.route->json_body);
  EXPECT_EQ(router.match(Method::kGet, "/").outcome, RouteMatch::Outcome::kFound);
}

TEST(Router, RefusesBadPatternsAndConflicts) {
  Router router;
  for (const char* pattern : {"", "api", "/a//b", "/a/", "/{}", "/{a", "/a{b}", "/{a-b}",
                              "/{id}/{id}", "/a?b", "/a%20b"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(router.add(Method::kGet, pattern, {}, no_op))) << pattern;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(router.add(Method::kOther, "/x", {}, no_op)));
  EXPECT_TRUE(absl::IsInvalidArgument(router.add(Method::kGet, "/x", {}, Handler())));
  ASSERT_TRUE(router.add(Method::kGet, "/a/{id}", {}, no_op).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(router.add(Method::kGet, "/a/{name}", {}, no_op)));
  EXPECT_TRUE(router.add(Method::kPost, "/a/{name}", {}, no_op).ok());
}

TEST(Request, QueryParametersAreDecoded) {
  const Request request = Request::for_test(
      Method::kGet, "/api/orders?status=open&epic=CS.D.EUR%2FUSD&note=a+b&flag&empty=");
  EXPECT_EQ(request.path(), "/api/orders");
  EXPECT_EQ(request.query_param("status"), "open");
  EXPECT_EQ(request.query_param("epic"), "CS.D.EUR/USD");
  EXPECT_EQ(request.query_param("note"), "a b");
  EXPECT_EQ(request.query_param("flag"), "");
  EXPECT_EQ(request.query_param("empty"), "");
  EXPECT_EQ(request.query_param("missing"), std::nullopt);
  // A broken escape is kept as it is, never read past the end.
  EXPECT_EQ(Request::for_test(Method::kGet, "/x?a=%4").query_param("a"), "%4");
  EXPECT_EQ(Request::for_test(Method::kGet, "/x?a=%zz").query_param("a"), "%zz");
}

TEST(Request, HeadersAreCaseInsensitiveAndRepeatedOnesJoin) {
  const Request request = Request::for_test(
      Method::kGet, "/", {},
      {{"X-Forwarded-For", "1.1.1.1"}, {"x-forwarded-for", "2.2.2.2"}, {"Accept", "*/*"}});
  EXPECT_EQ(request.header("ACCEPT"), "*/*");
  EXPECT_EQ(request.header("x-forwarded-FOR"), "1.1.1.1");
  EXPECT_EQ(request.joined_header("X-Forwarded-For"), "1.1.1.1, 2.2.2.2");
  EXPECT_EQ(request.header("Missing"), std::nullopt);
}

TEST(Message, ErrorBodiesAreJsonWithCodeAndMessage) {
  const Response response = error_response(404, "not_found", "no \"route\"");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error":"not_found","message":"no \"route\""})");
  EXPECT_EQ(field_error_response("missing_field", "size", "field 'size' is required").body,
            R"({"error":"missing_field","message":"field 'size' is required","field":"size"})");
}

TEST(Message, JsonContentType) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(is_json_content_type("application/jsonp"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type(""));
}

}  // namespace
}  // namespace qt::http
