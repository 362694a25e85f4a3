# qt_capital_quote_parser: WS frame → fixed-point qt::Quote on the feed thread (quote_parser.hpp).
# Included by feeds/capital/CMakeLists.txt. simdjson's imported target is made GLOBAL so
# directories that link this library resolve it too.
if(NOT TARGET simdjson::simdjson)
  find_package(simdjson REQUIRED GLOBAL)
endif()

add_library(qt_capital_quote_parser ${CMAKE_CURRENT_LIST_DIR}/quote_parser.cpp)
qt_target_defaults(qt_capital_quote_parser)
# decimal.hpp (header-only) comes from the protocol layer; the stream client decodes the
# non-quote frames with its parse_ws_server_message().
target_link_libraries(qt_capital_quote_parser
  PUBLIC qt_engine qt_capital_protocol simdjson::simdjson absl::status absl::statusor)
