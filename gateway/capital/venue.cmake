# The Capital.com venue agent (engine side of the broker connection).
add_library(qt_capital_venue ${CMAKE_CURRENT_SOURCE_DIR}/capital_venue.cpp)
qt_target_defaults(qt_capital_venue)
target_link_libraries(qt_capital_venue
  PUBLIC qt_engine qt_capital_protocol spdlog::spdlog absl::status absl::statusor)

# The venue's TradingApi over the REST client.
if(TARGET qt_capital_client)
  add_library(qt_capital_rest_venue ${CMAKE_CURRENT_SOURCE_DIR}/rest_trading_api.cpp)
  qt_target_defaults(qt_capital_rest_venue)
  target_link_libraries(qt_capital_rest_venue PUBLIC qt_capital_venue qt_capital_client)
endif()
