# qt_capital_stream: the Capital.com market-data WebSocket client (stream_client.hpp) — WSS to
# the streaming host, batched subscriptions, pings, reconnects, stale-feed detection, quotes
# parsed in place onto the QuoteRing. Included by feeds/capital/CMakeLists.txt after
# parser.cmake. qt_capital_client (TlsContext, Secret) is defined later, under gateway/; CMake
# resolves the name at generate time.
if(NOT TARGET OpenSSL::SSL)
  find_package(OpenSSL 3 REQUIRED GLOBAL)
endif()

add_library(qt_capital_stream
  ${CMAKE_CURRENT_LIST_DIR}/stream_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_endpoint.cpp
)
qt_target_defaults(qt_capital_stream)
target_link_libraries(qt_capital_stream
  PUBLIC qt_capital_quote_parser qt_capital_client qt_capital_protocol qt_engine
         absl::status absl::statusor Threads::Threads
  PRIVATE Boost::headers OpenSSL::SSL OpenSSL::Crypto fmt::fmt spdlog::spdlog)
