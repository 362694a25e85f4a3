# qt_capital_protocol: Capital.com messages, JSON parse/write, error codes, encrypted password,
# dealing rules → InstrumentSpec (see protocol.hpp). Included by gateway/capital/CMakeLists.txt.
# Imported targets are made GLOBAL so every directory that links this library resolves them.
if(NOT TARGET simdjson::simdjson)
  find_package(simdjson REQUIRED GLOBAL)
endif()
if(NOT TARGET OpenSSL::Crypto)
  find_package(OpenSSL 3 REQUIRED GLOBAL)
endif()

add_library(qt_capital_protocol
  ${CMAKE_CURRENT_LIST_DIR}/protocol/decimal.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/enums.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/instrument_spec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/parse.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/password.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/write.cpp
)
qt_target_defaults(qt_capital_protocol)
target_link_libraries(qt_capital_protocol
  PUBLIC qt_common qt_engine absl::status absl::statusor fmt::fmt
  PRIVATE simdjson::simdjson OpenSSL::Crypto absl::cord)
