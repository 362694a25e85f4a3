// Typed message → compact JSON text, for every body the REST client sends and every response
// or WS frame the simulator produces. Field names and optionality come from the same schema
// the parsers read (schema.hpp), so every to_json() output parses back to an equal message.
// std::optional members that are nullopt are omitted; everything else is written. Strings are
// escaped; Decimals are their exact digits ("1.08975"); doubles are the shortest text that reads
// back to the same double. Allocates (one
// std::string per call); not for the hot path. Thread-safe.
#pragma once

#include <string>

#include "gateway/capital/protocol/messages.hpp"

namespace qt::capital {

// Session and account.
std::string to_json(const SessionLoginRequest& m);
std::string to_json(const SessionCreateResponse& m);
std::string to_json(const SessionDetails& m);
std::string to_json(const SwitchAccountRequest& m);
std::string to_json(const SwitchAccountResponse& m);
std::string to_json(const EncryptionKeyResponse& m);
std::string to_json(const StatusResponse& m);
std::string to_json(const ServerTimeResponse& m);
std::string to_json(const AccountsResponse& m);
std::string to_json(const AccountPreferences& m);
std::string to_json(const UpdatePreferencesRequest& m);

// Markets and prices. `naming` picks the current or the 2022 spelling of renamed fields.
std::string to_json(const MarketSearchResponse& m);
std::string to_json(const MarketDetails& m, FieldNaming naming = FieldNaming::kCurrent);
std::string to_json(const MarketDetailsListResponse& m, FieldNaming naming = FieldNaming::kCurrent);
std::string to_json(const PriceHistory& m);

// Trading.
std::string to_json(const CreatePositionRequest& m);
std::string to_json(const AmendPositionRequest& m);
std::string to_json(const CreateWorkingOrderRequest& m);
std::string to_json(const AmendWorkingOrderRequest& m);
std::string to_json(const DealReferenceResponse& m);
std::string to_json(const PositionsResponse& m);
std::string to_json(const PositionItem& m);
std::string to_json(const WorkingOrdersResponse& m);
std::string to_json(const ActivityHistoryResponse& m);
std::string to_json(const DealConfirmation& m);

// {"errorCode":"code"} or {"errorCode":"code: detail"}.
std::string to_json(const ErrorBody& m);

// WebSocket. Client → server (the payload members written depend on the destination; see
// WsRequest) and server → client (replies wrap their payload in the status/destination/
// correlationId envelope; quote and OHLC pushes carry no correlationId).
std::string to_json(const WsRequest& m);
std::string to_json(const WsSubscriptionReply& m);
std::string to_json(const WsPingReply& m);
std::string to_json(const WsQuote& m);
std::string to_json(const WsOhlcBar& m);
std::string to_json(const WsErrorReply& m);
std::string to_json(const WsServerMessage& m);

}  // namespace qt::capital
