// Capital.com protocol layer: the one definition of the broker's REST v1 and WebSocket wire
// format (/work/shared/capital-api.md), shared by the REST/WS client and the simulator so both
// speak exactly the spec.
//
// Owns: typed messages (protocol/messages.hpp), JSON parsers (protocol/parse.hpp) and writers
// (protocol/write.hpp), the error-code table and error → absl::Status mapping
// (protocol/errors.hpp), the encrypted-password login (protocol/password.hpp), dealing rules →
// InstrumentSpec (protocol/instrument_spec.hpp) and exact decimal ↔ fixed-point conversion
// (protocol/decimal.hpp, header-only, noexcept, also used by the hot-path quote parser in
// feeds/capital/quote_parser.hpp).
//
// Guarantees: nothing here throws (simdjson's error-code API); failures are absl::Status with
// a message that names the payload kind and the field, and never contains a secret (password,
// API key, CST / X-SECURITY-TOKEN). Every function is thread-safe (no shared mutable state).
// Everything except decimal.hpp allocates: this is the control path, not the quote path.
#pragma once

#include "common/base64.hpp"
#include "common/json_writer.hpp"
#include "gateway/capital/protocol/decimal.hpp"
#include "gateway/capital/protocol/errors.hpp"
#include "gateway/capital/protocol/instrument_spec.hpp"
#include "gateway/capital/protocol/messages.hpp"
#include "gateway/capital/protocol/parse.hpp"
#include "gateway/capital/protocol/password.hpp"
#include "gateway/capital/protocol/write.hpp"
