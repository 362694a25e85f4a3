#include "tests/capital_client/fake_broker.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "gateway/capital/protocol.hpp"

namespace qt::capital::testing {

using namespace decimal_literals;

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ServerReply json(std::string body, int status = 200) {
  ServerReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

ServerReply error(int status, const std::string& code) {
  return json(to_json(ErrorBody{code, ""}), status);
}

MarketDetails gold_details() {
  MarketDetails d;
  d.instrument.epic = "GOLD";
  d.instrument.name = "Gold";
  d.instrument.expiry = "-";
  d.instrument.type = "COMMODITIES";
  d.instrument.currency = "USD";
  d.dealing_rules.min_deal_size = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.max_deal_size = DealingRule{RuleUnit::kPoints, 500_dec};
  d.dealing_rules.min_size_increment = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.dealing_rules.min_step_distance = DealingRule{RuleUnit::kPoints, 0.01_dec};
  d.snapshot.market_status = MarketStatus::kTradeable;
  d.snapshot.bid = 2300.1;
  d.snapshot.offer = 2300.4;
  d.snapshot.decimal_places_factor = 2;
  return d;
}

}  // namespace

struct FakeBroker::Rsa {
  EVP_PKEY* key = nullptr;
  std::string public_der_base64;
  ~Rsa() { EVP_PKEY_free(key); }

  std::string decrypt(const std::string& cipher) const {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
    std::string out;
    std::size_t size = 0;
    if (ctx != nullptr && EVP_PKEY_decrypt_init(ctx) > 0 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
        EVP_PKEY_decrypt(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(cipher.data()),
                         cipher.size()) > 0) {
      out.resize(size);
      if (EVP_PKEY_decrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &size,
                           reinterpret_cast<const unsigned char*>(cipher.data()),
                           cipher.size()) > 0) {
        out.resize(size);
      } else {
        out.clear();
      }
    }
    EVP_PKEY_CTX_free(ctx);
    return out;
  }
};

FakeBroker::FakeBroker() : rsa_(std::make_unique<Rsa>()) {
  rsa_->key = EVP_RSA_gen(2048);
  if (rsa_->key == nullptr) throw std::runtime_error("fake broker: RSA key generation");
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(rsa_->key, &der);
  rsa_->public_der_base64 =
      base64_encode(std::string_view(reinterpret_cast<const char*>(der), size));
  OPENSSL_free(der);
  server_ = std::make_unique<TestServer>([this](const ServerRequest& r) { return handle(r); },
                                         &this->pki());
}

FakeBroker::~FakeBroker() {
  server_.reset();
}

const TestPki& FakeBroker::pki() const {
  static const TestPki instance = TestPki::create({"DNS:localhost", "IP:127.0.0.1"});
  return instance;
}

void FakeBroker::expire_session() {
  std::lock_guard lock(mutex_);
  cst_.clear();
  security_token_.clear();
}

void FakeBroker::inject(const std::string& method_and_path, ServerReply reply, int times) {
  std::lock_guard lock(mutex_);
  injected_[method_and_path] = {std::move(reply), times};
}

int FakeBroker::count(const std::string& method_and_path) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(method_and_path);
  return it == counts_.end() ? 0 : it->second;
}

std::string FakeBroker::current_cst() const {
  std::lock_guard lock(mutex_);
  return cst_;
}

std::string FakeBroker::current_security_token() const {
  std::lock_guard lock(mutex_);
  return security_token_;
}

ServerReply FakeBroker::handle(const ServerRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  const std::string key = request.method + " " + path;
  {
    std::lock_guard lock(mutex_);
    ++counts_[key];
    const auto it = injected_.find(key);
    if (it != injected_.end() && it->second.second > 0) {
      --it->second.second;
      return it->second.first;
    }
  }
  if (key == "GET /api/v1/session/encryptionKey") {
    if (request.header("x-cap-api-key") != kTestApiKey) return error(401, "error.invalid.api.key");
    EncryptionKeyResponse answer{rsa_->public_der_base64, wall_ms()};
    encryption_timestamp_ = answer.time_stamp;
    return json(to_json(answer));
  }
  if (key == "POST /api/v1/session") return login(request);
  if (key == "GET /api/v1/time") return json(to_json(ServerTimeResponse{wall_ms()}));
  return authenticated(request, key);
}

ServerReply FakeBroker::login(const ServerRequest& request) {
  ++login_attempts_;
  if (request.header("x-cap-api-key").empty()) return error(400, "error.null.api.key");
  if (request.header("x-cap-api-key") != kTestApiKey) return error(401, "error.invalid.api.key");
  absl::StatusOr<SessionLoginRequest> body = parse_session_login_request(request.body);
  if (!body.ok()) return error(400, "error.invalid.details");
  std::string password = body->password;
  if (body->encrypted_password) {
    const std::optional<std::string> cipher = base64_decode(password);
    const std::optional<std::string> plain =
        cipher ? base64_decode(rsa_->decrypt(*cipher)) : std::nullopt;
    const std::string expected_suffix = "|" + std::to_string(encryption_timestamp_.load());
    if (!plain || plain->size() < expected_suffix.size() ||
        plain->substr(plain->size() - expected_suffix.size()) != expected_suffix) {
      return error(401, "error.invalid.details");
    }
    password = plain->substr(0, plain->size() - expected_suffix.size());
  }
  if (body->identifier != kTestIdentifier || password != kTestPassword) {
    return error(401, "error.invalid.details");
  }

  SessionCreateResponse answer;
  answer.account_type = "CFD";
  answer.account_info = AccountBalance{10000, 10000, 0, 10000};
  answer.currency_iso_code = "USD";
  answer.currency_symbol = "$";
  answer.current_account_id = "ACC-12345";
  answer.streaming_host = "wss://api-streaming-capital.backend-capital.com/";
  answer.accounts.push_back(
      SessionAccount{"ACC-12345", "Demo", true, "CFD", std::nullopt, std::nullopt, std::nullopt});
  answer.client_id = "C-1";
  ServerReply reply = json(to_json(answer));
  {
    std::lock_guard lock(mutex_);
    ++token_counter_;
    cst_ = "cst-token-" + std::to_string(token_counter_);
    security_token_ = "xst-token-" + std::to_string(token_counter_);
    reply.headers = {{"CST", cst_}, {"X-SECURITY-TOKEN", security_token_}};
  }
  ++logins_;
  return reply;
}

ServerReply FakeBroker::authenticated(const ServerRequest& request, const std::string& key) {
  std::string cst;
  std::string token;
  {
    std::lock_guard lock(mutex_);
    if (cst_.empty() || request.header("cst") != cst_ ||
        request.header("x-security-token") != security_token_) {
      return error(401, "error.invalid.session.token");
    }
    if (rotate_cst_.exchange(false)) cst_ = "cst-rotated-" + std::to_string(++token_counter_);
    cst = cst_;
    token = security_token_;
  }
  auto answer = [&](std::string body) {
    ServerReply reply = json(std::move(body));
    reply.headers = {{"CST", cst}, {"X-SECURITY-TOKEN", token}};
    return reply;
  };
  auto next_reference = [&] {
    std::lock_guard lock(mutex_);
    return "o_" + std::to_string(++deal_counter_);
  };

  if (key == "GET /api/v1/ping") return answer(to_json(StatusResponse{"OK"}));
  if (key == "DELETE /api/v1/session") {
    expire_session();
    return answer(to_json(StatusResponse{"SUCCESS"}));
  }
  if (key == "GET /api/v1/accounts") {
    AccountsResponse accounts;
    Account account;
    account.account_id = "ACC-12345";
    account.account_name = "Demo";
    account.status = "ENABLED";
    account.account_type = "CFD";
    account.preferred = true;
    account.balance = AccountBalance{10000, 10000, 0, 10000};
    account.currency = "USD";
    accounts.accounts.push_back(account);
    return answer(to_json(accounts));
  }
  if (key == "GET /api/v1/markets/GOLD") return answer(to_json(gold_details()));
  if (key.starts_with("GET /api/v1/markets/")) return error(404, "error.not-found.epic");
  if (key == "GET /api/v1/markets") {
    MarketSearchResponse search;
    MarketSummary summary;
    summary.epic = "GOLD";
    summary.instrument_name = "Gold";
    summary.market_status = MarketStatus::kTradeable;
    search.markets.push_back(summary);
    return answer(to_json(search));
  }
  if (key == "GET /api/v1/prices/GOLD") {
    PriceHistory history;
    history.instrument_type = "COMMODITIES";
    for (int i = 0; i < 2; ++i) {
      PriceBar bar;
      bar.snapshot_time = "2024-05-01T10:0" + std::to_string(i) + ":00";
      bar.snapshot_time_utc = bar.snapshot_time;
      bar.open_price = BidAsk{2300.0 + i, 2300.3 + i};
      bar.close_price = BidAsk{2300.5 + i, 2300.8 + i};
      bar.high_price = BidAsk{2301.0 + i, 2301.3 + i};
      bar.low_price = BidAsk{2299.0 + i, 2299.3 + i};
      history.prices.push_back(bar);
    }
    return answer(to_json(history));
  }
  if (key == "GET /api/v1/positions") return answer(to_json(PositionsResponse{}));
  if (key == "GET /api/v1/workingorders") return answer(to_json(WorkingOrdersResponse{}));
  if (key == "POST /api/v1/positions" || key == "POST /api/v1/workingorders") {
    return answer(to_json(DealReferenceResponse{next_reference()}));
  }
  if (key.starts_with("DELETE /api/v1/positions/") || key.starts_with("PUT /api/v1/positions/")) {
    return answer(to_json(DealReferenceResponse{"p_" + key.substr(key.rfind('/') + 1)}));
  }
  if (key.starts_with("DELETE /api/v1/workingorders/") ||
      key.starts_with("PUT /api/v1/workingorders/")) {
    return answer(to_json(DealReferenceResponse{next_reference()}));
  }
  if (key.starts_with("GET /api/v1/confirms/")) {
    DealConfirmation confirmation;
    confirmation.date = "2024-05-01T10:00:00.000";
    confirmation.status = DealOutcome::kOpen;
    confirmation.reason = "SUCCESS";
    confirmation.deal_status = DealStatus::kAccepted;
    confirmation.epic = "GOLD";
    confirmation.deal_reference = key.substr(key.rfind('/') + 1);
    confirmation.deal_id = "006011e7-0001-54c4-0000-000080560045";
    confirmation.affected_deals.push_back(
        AffectedDeal{"006011e7-0001-54c4-0000-000080560046", AffectedDealStatus::kOpened});
    confirmation.level = 2300.4_dec;
    confirmation.size = 1_dec;
    confirmation.direction = Side::kBuy;
    return answer(to_json(confirmation));
  }
  return error(404, "error.not-found.path");
}

}  // namespace qt::capital::testing
