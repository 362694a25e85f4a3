# The Capital.com venue agent (engine side of the broker connection). It runs against any
# TradingApi: CapitalRestClient (qt_capital_client) in production, a scripted fake in tests.
add_library(qt_capital_venue ${CMAKE_CURRENT_SOURCE_DIR}/capital_venue.cpp)
qt_target_defaults(qt_capital_venue)
target_link_libraries(qt_capital_venue
  PUBLIC qt_engine qt_capital_protocol Boost::headers spdlog::spdlog absl::status absl::statusor)
