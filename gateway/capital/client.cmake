# qt_capital_client: the Capital.com REST client — configuration, pooled HTTPS connections,
# rate limits, retries, session and the REST calls used by the venue agent (rest_client.hpp).
# Included by gateway/capital/CMakeLists.txt after protocol.cmake.
find_package(Boost 1.81 REQUIRED COMPONENTS url)
if(NOT TARGET OpenSSL::SSL)
  find_package(OpenSSL 3 REQUIRED)
endif()

add_library(qt_capital_client
  ${CMAKE_CURRENT_LIST_DIR}/client_config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/client_tls.cpp
  ${CMAKE_CURRENT_LIST_DIR}/connection_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/https_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rate_limiter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rest_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/rest_transport.cpp
  ${CMAKE_CURRENT_LIST_DIR}/retry_policy.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_url.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session.cpp
)
qt_target_defaults(qt_capital_client)
target_link_libraries(qt_capital_client
  PUBLIC qt_capital_protocol qt_engine absl::inlined_vector absl::status absl::statusor fmt::fmt
         spdlog::spdlog
         Threads::Threads OpenSSL::SSL Boost::headers
  PRIVATE Boost::url OpenSSL::Crypto)
if(QT_SANITIZE STREQUAL "thread")
  # GCC cannot instrument std::atomic_thread_fence (used inside Asio and moodycamel headers) and
  # warns about it (-Wtsan); the warning is about those headers, not about this code.
  target_compile_options(qt_capital_client PRIVATE -Wno-tsan)
endif()
