// 1,000 concurrent keep-alive connections (the seed's target is 1000+): all open at once, all
// answered, twice, on the same connections. The client runs on a thread of the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "gateway/http/server.hpp"
#include "tests/http/load_client.hpp"

namespace qt::http {
namespace {

using testing::LoadClient;

TEST(HttpConnections, AThousandConcurrentKeepAliveConnectionsAllGetAnswers) {
  constexpr int kConnections = 1000;
  const rlim_t limit = LoadClient::raise_descriptor_limit();
  // Both ends live in this process: two descriptors per connection.
  ASSERT_GE(limit, static_cast<rlim_t>(2 * kConnections + 64))
      << "RLIMIT_NOFILE's hard limit is " << limit << "; this test needs 2,064";

  Router router;
  ASSERT_TRUE(router
                  .add(Method::kGet, "/health", {},
                       [](const Request&, Responder responder) {
                         responder.send(Response::json(200, R"({"status":"ok"})"));
                       })
                  .ok());
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  options.max_connections = kConnections + 10;
  HttpServer server(options, std::move(router));
  ASSERT_TRUE(server.start().ok());

  int to_test[2];
  int from_test[2];
  ASSERT_EQ(::pipe(to_test), 0);
  ASSERT_EQ(::pipe(from_test), 0);
  std::thread client_thread([&] {
    LoadClient client(server.port(), kConnections);
    client.run(to_test[1], from_test[0]);
  });

  EXPECT_EQ(LoadClient::read_line(to_test[0]),
            "connected 1000 answered 1000");  // every connection open and answered once
  EXPECT_EQ(server.stats().connections_open, static_cast<uint64_t>(kConnections));
  LoadClient::write_line(from_test[1], "go\n");
  EXPECT_EQ(LoadClient::read_line(to_test[0]), "answered 2000");  // again, on the same ones
  client_thread.join();
  EXPECT_EQ(server.stats().connections_accepted, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(server.stats().connections_rejected, 0u);
  for (int fd : {to_test[0], to_test[1], from_test[0], from_test[1]}) ::close(fd);
}

}  // namespace
}  // namespace qt::http
