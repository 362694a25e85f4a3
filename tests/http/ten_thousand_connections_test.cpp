// 10,000 concurrent keep-alive connections when the descriptor limit allows. The client is a
// forked process, so each side has its own RLIMIT_NOFILE: the server's process needs one
// descriptor per connection, not two. The soft limit is raised to the hard one first; when the
// hard limit is too low, the test says so and runs with as many connections as it allows.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "gateway/http/server.hpp"
#include "tests/http/load_client.hpp"

namespace qt::http {
namespace {

using testing::LoadClient;

TEST(HttpConnections, TenThousandConcurrentKeepAliveConnectionsAllGetAnswers) {
  constexpr rlim_t kWanted = 10'000;
  constexpr rlim_t kSpareDescriptors = 100;  // the process's own files, the listener, pipes
  const rlim_t limit = LoadClient::raise_descriptor_limit();
  rlim_t connections = kWanted;
  if (limit < kWanted + kSpareDescriptors) {
    connections = limit > kSpareDescriptors ? limit - kSpareDescriptors : 0;
    std::printf(
        "RLIMIT_NOFILE hard limit is %llu: running with %llu connections instead of "
        "10,000\n",
        static_cast<unsigned long long>(limit), static_cast<unsigned long long>(connections));
  }
  ASSERT_GE(connections, 1000u);
  const int count = static_cast<int>(connections);

  // Fork before the server starts a thread: the child is a plain single-threaded client.
  int to_test[2];
  int from_test[2];
  ASSERT_EQ(::pipe(to_test), 0);
  ASSERT_EQ(::pipe(from_test), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(to_test[0]);
    ::close(from_test[1]);
    const std::string port = LoadClient::read_line(from_test[0]);
    LoadClient client(static_cast<uint16_t>(std::stoi(port)), count);
    client.run(to_test[1], from_test[0]);
    ::_exit(0);
  }
  ::close(to_test[1]);
  ::close(from_test[0]);

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
  options.max_connections = connections + 10;
  HttpServer server(options, std::move(router));
  ASSERT_TRUE(server.start().ok());
  LoadClient::write_line(from_test[1], std::to_string(server.port()) + "\n");

  const std::string n = std::to_string(count);
  EXPECT_EQ(LoadClient::read_line(to_test[0]), "connected " + n + " answered " + n);
  EXPECT_EQ(server.stats().connections_open, connections);
  LoadClient::write_line(from_test[1], "go\n");
  EXPECT_EQ(LoadClient::read_line(to_test[0]), "answered " + std::to_string(2 * count));
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(server.stats().connections_accepted, connections);
  EXPECT_EQ(server.stats().connections_rejected, 0u);
  ::close(to_test[0]);
  ::close(from_test[1]);
}

}  // namespace
}  // namespace qt::http
