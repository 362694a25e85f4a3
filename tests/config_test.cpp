#include "app/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace qt {
namespace {

// A config file in the test temp dir, removed when it goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path_ = ::testing::TempDir() + "qt_config_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++) + ".toml";
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ConfigSources with_file(const TempFile& file) {
  ConfigSources sources;
  sources.file_path = file.path();
  return sources;
}

// The error message of a load that must fail.
std::string load_error(const ConfigSources& sources) {
  const absl::StatusOr<AppConfig> config = load_config(sources);
  EXPECT_FALSE(config.ok()) << "expected the configuration to be rejected";
  if (config.ok()) return {};
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

TEST(Config, EmbeddedDefaultLoadsAndValidates) {
  const absl::StatusOr<AppConfig> config = load_config({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->threading, ThreadingMode::kAuto);
  EXPECT_EQ(config->engine_thread.cpu, -1);
  EXPECT_EQ(config->venue_thread.wait, WaitMode::kPark);
  EXPECT_DOUBLE_EQ(config->max_order_notional, 1'000'000);
  EXPECT_EQ(config->max_orders_per_second, 100);
  EXPECT_EQ(config->trading_state, "active");
  EXPECT_EQ(config->feed_seed, 42u);
  EXPECT_TRUE(config->cancel_on_shutdown);
  EXPECT_EQ(config->log_format, "text");
  ASSERT_EQ(config->instruments.size(), 3u);
  EXPECT_EQ(config->instruments[0].symbol, "GOLD");
  EXPECT_EQ(config->instruments[1].symbol, "EURUSD");
  EXPECT_EQ(config->instruments[1].price_decimals, 5);
  EXPECT_DOUBLE_EQ(config->instruments[1].tick, 0.00001);
  EXPECT_EQ(config->instruments[2].symbol, "US100");
  ASSERT_EQ(config->strategies.size(), 2u);
  EXPECT_EQ(config->strategies[0].type, "ma_crossover");
  EXPECT_EQ(config->strategies[0].instrument, "GOLD");
  EXPECT_EQ(config->strategies[1].type, "quoter");
  EXPECT_EQ(config->strategies[1].timer_ms, 500);
  EXPECT_TRUE(config->capital_password.empty());
  EXPECT_NE(default_config_toml().find("[[instruments]]"), std::string_view::npos);
}

TEST(Config, FileOverlayReplacesScalarAndKeepsOtherDefaults) {
  const TempFile file("[risk]\nmax_order_notional = 5000.0\n[threads.feed]\nwait = \"spin\"\n");
  const absl::StatusOr<AppConfig> config = load_config(with_file(file));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->max_order_notional, 5000);
  EXPECT_DOUBLE_EQ(config->price_collar_bps, 200);  // same table, not in the file
  EXPECT_EQ(config->feed_thread.wait, WaitMode::kSpin);
  EXPECT_EQ(config->engine_thread.wait, WaitMode::kPark);
  EXPECT_EQ(config->instruments.size(), 3u);
}

TEST(Config, FileInstrumentsReplaceTheWholeArrayAndMissingFieldsTakeStructDefaults) {
  const TempFile file(R"(
[[instruments]]
symbol = "SILVER"
price_decimals = 3
tick = 1   # an integer is fine for a float key

[[strategies]]
type = "ma_crossover"
instrument = "SILVER"
)");
  const absl::StatusOr<AppConfig> config = load_config(with_file(file));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->instruments.size(), 1u);
  const InstrumentConfig& silver = config->instruments[0];
  EXPECT_EQ(silver.symbol, "SILVER");
  EXPECT_EQ(silver.price_decimals, 3);
  EXPECT_DOUBLE_EQ(silver.tick, 1.0);
  const InstrumentConfig defaults{};
  EXPECT_EQ(silver.size_decimals, defaults.size_decimals);
  EXPECT_DOUBLE_EQ(silver.max_position, defaults.max_position);
  EXPECT_DOUBLE_EQ(silver.initial_price, defaults.initial_price);
  ASSERT_EQ(config->strategies.size(), 1u);
  EXPECT_EQ(config->strategies[0].fast_window, StrategyConfig{}.fast_window);
}

TEST(Config, EnvironmentOverridesAreTypedByTheKeyTheyReplace) {
  ConfigSources sources;
  sources.environment = {"QT_RISK_MAX_ORDER_NOTIONAL=5000",  // float key, integer text
                         "QT_RISK_MAX_ORDERS_PER_SECOND=7",  // integer
                         "QT_LOG_FORMAT=json",               // string
                         "QT_RUN_CANCEL_ON_SHUTDOWN=false",  // boolean
                         "QT_THREADS_ENGINE_WAIT=spin",      // nested table
                         "PATH=/usr/bin"};
  const absl::StatusOr<AppConfig> config = load_config(sources);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->max_order_notional, 5000);
  EXPECT_EQ(config->max_orders_per_second, 7);
  EXPECT_EQ(config->log_format, "json");
  EXPECT_FALSE(config->cancel_on_shutdown);
  EXPECT_EQ(config->engine_thread.wait, WaitMode::kSpin);
}

TEST(Config, EnvironmentOverrideSelectsArrayElementByIndex) {
  ConfigSources sources;
  sources.environment = {"QT_INSTRUMENTS_0_MAX_POSITION=5", "QT_STRATEGIES_1_TIMER_MS=250"};
  const absl::StatusOr<AppConfig> config = load_config(sources);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->instruments[0].max_position, 5);
  EXPECT_DOUBLE_EQ(config->instruments[1].max_position, 5'000'000);
  EXPECT_EQ(config->strategies[1].timer_ms, 250);
}

TEST(Config, SetOverrideWinsOverEnvironment) {
  ConfigSources sources;
  sources.environment = {"QT_RISK_MAX_ORDER_NOTIONAL=5000"};
  sources.set_overrides = {"risk.max_order_notional=7000", "instruments.0.tick=0.5"};
  const absl::StatusOr<AppConfig> config = load_config(sources);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->max_order_notional, 7000);
  EXPECT_DOUBLE_EQ(config->instruments[0].tick, 0.5);
}

TEST(Config, UnknownKeyInFileIsAnErrorNamingTheDottedKey) {
  const TempFile file("[risk]\nmax_notional = 5.0\n[[instruments]]\nsymbol = \"GOLD\"\ntik = 1\n");
  const std::string error = load_error(with_file(file));
  EXPECT_NE(error.find("risk.max_notional: unknown key"), std::string::npos) << error;
  EXPECT_NE(error.find("instruments.0.tik: unknown key"), std::string::npos) << error;
}

TEST(Config, UnknownSetKeyOrIndexIsAnError) {
  ConfigSources sources;
  sources.set_overrides = {"risk.nope=1", "instruments.9.tick=1", "risk.max_order_notional"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("risk.nope: unknown key"), std::string::npos) << error;
  EXPECT_NE(error.find("instruments.9.tick: no such element"), std::string::npos) << error;
  EXPECT_NE(error.find("expected section.key=value"), std::string::npos) << error;
}

TEST(Config, UnknownQtEnvironmentVariableIsAnErrorNamingIt) {
  ConfigSources sources;
  sources.environment = {"QT_RISK_MAX_NOTIONAL=5", "QT_INSTRUMENTS_7_TICK=1"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("QT_RISK_MAX_NOTIONAL"), std::string::npos) << error;
  EXPECT_NE(error.find("QT_INSTRUMENTS_7_TICK"), std::string::npos) << error;
}

TEST(Config, QtVariablesOfOtherProgramsAreIgnored) {
  ConfigSources sources;
  sources.environment = {"QT_QPA_PLATFORM=xcb", "QT_LOGGING_RULES=*.debug=false", "QT_=1"};
  EXPECT_TRUE(load_config(sources).ok());
}

TEST(Config, TypeMismatchNamesKeyExpectedTypeAndValue) {
  const TempFile file("[risk]\nmax_orders_per_second = \"fast\"\n");
  const std::string error = load_error(with_file(file));
  EXPECT_NE(error.find("risk.max_orders_per_second: expected integer, got string \"fast\""),
            std::string::npos)
      << error;
}

TEST(Config, EnvironmentTypeMismatchNamesKeyExpectedTypeAndVariable) {
  ConfigSources sources;
  sources.environment = {"QT_FEED_SEED=abc"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("feed.seed: expected integer, got \"abc\""), std::string::npos) << error;
  EXPECT_NE(error.find("QT_FEED_SEED"), std::string::npos) << error;
}

TEST(Config, SeveralErrorsAreReportedAtOnce) {
  const TempFile file(R"(
[engine]
threading = "turbo"
[risk]
max_order_notional = -1.0
bogus = 1
[log]
level = 3
)");
  ConfigSources sources = with_file(file);
  sources.set_overrides = {"strategies.0.fast_window=100"};
  const std::string error = load_error(sources);
  for (const char* expected :
       {"engine.threading: must be one of", "risk.max_order_notional: must be > 0",
        "risk.bogus: unknown key", "log.level: expected string, got integer 3",
        "strategies.0.fast_window: must be < slow_window"}) {
    EXPECT_NE(error.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n"
                                                       << error;
  }
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 4) << error;  // one line per error
}

TEST(Config, BadEnumValueIsRejected) {
  ConfigSources sources;
  sources.set_overrides = {"log.format=xml"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("log.format: must be one of text, json; got \"xml\""), std::string::npos)
      << error;
}

// The activity history can lag a deal by seconds: a shorter wait would declare an order that
// executed "never executed" (issue 11).
TEST(Config, UnknownResolutionIsNeverShorterThanTheHistoryLag) {
  ConfigSources sources;
  sources.set_overrides = {"venue.unknown_resolution_ms=100"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("venue.unknown_resolution_ms: must be between 5000 and 3600000; got 100"),
            std::string::npos)
      << error;
  sources.set_overrides = {"venue.unknown_resolution_ms=5000"};
  EXPECT_TRUE(load_config(sources).ok());
}

// Issue 11: `ps` shows every process's command line to every user.
TEST(Config, SecretsAreRefusedOnTheCommandLine) {
  ConfigSources sources;
  sources.set_overrides = {"capital.password=hunter2-secret"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("--set capital.password: a secret is not accepted on the command line"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("hunter2-secret"), std::string::npos) << error;
}

TEST(Config, ParkSpinBudgetIsPerThreadInMicroseconds) {
  ConfigSources sources;
  sources.set_overrides = {"threads.engine.spin_us=150", "threads.venue.spin_us=0"};
  const absl::StatusOr<AppConfig> config = load_config(sources);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine_thread.spin_ns, 150'000);
  EXPECT_EQ(config->venue_thread.spin_ns, 0);
  EXPECT_EQ(config->feed_thread.spin_ns, IdleStrategy::kDefaultSpinNs);

  sources.set_overrides = {"threads.engine.spin_us=-1", "threads.feed.spin_us=2000000"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("threads.engine.spin_us: must be >= 0"), std::string::npos) << error;
  EXPECT_NE(error.find("threads.feed.spin_us: at most 1000000"), std::string::npos) << error;
}

TEST(Config, StrategyOnUnknownInstrumentIsRejected) {
  ConfigSources sources;
  sources.set_overrides = {"strategies.1.instrument=SILVER"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("strategies.1.instrument: unknown instrument \"SILVER\""), std::string::npos)
      << error;
}

TEST(Config, FastWindowMustBeBelowSlowWindow) {
  ConfigSources sources;
  sources.environment = {"QT_STRATEGIES_0_FAST_WINDOW=80"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("strategies.0.fast_window: must be < slow_window; got 80 >= 80"),
            std::string::npos)
      << error;
}

TEST(Config, SnapshotKeepAndSegmentRetentionAreValidated) {
  const absl::StatusOr<AppConfig> defaults = load_config({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->snapshot_keep, 3);
  EXPECT_DOUBLE_EQ(defaults->segment_retention_hours, 72);
  EXPECT_FALSE(defaults->archive_segments);

  ConfigSources sources;
  sources.set_overrides = {"persist.snapshot_keep=0", "persist.segment_retention_hours=-1"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("persist.snapshot_keep: must be between 1 and 1000; got 0"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("persist.segment_retention_hours: must be >= 0; got -1"), std::string::npos)
      << error;

  sources.set_overrides = {"persist.archive_segments=true", "persist.segment_retention_hours=0"};
  const absl::StatusOr<AppConfig> archive = load_config(sources);
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_TRUE(archive->archive_segments);
  EXPECT_DOUBLE_EQ(archive->segment_retention_hours, 0);
}

TEST(Config, InstrumentRulesAreValidated) {
  const TempFile file(R"(
strategies = []
[[instruments]]
symbol = "GOLD"
price_decimals = 12
[[instruments]]
symbol = "GOLD"
size_decimals = 1
min_size = 0.05
)");
  const std::string error = load_error(with_file(file));
  EXPECT_NE(error.find("instruments.0.price_decimals: must be between 0 and 9; got 12"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("instruments.1.symbol: duplicate symbol \"GOLD\""), std::string::npos)
      << error;
  EXPECT_NE(error.find("instruments.1.min_size: 0.05 is not a whole multiple of 1e-1"),
            std::string::npos)
      << error;
}

TEST(Config, AtLeastOneInstrumentIsRequired) {
  const TempFile file("instruments = []\nstrategies = []\n");
  const std::string error = load_error(with_file(file));
  EXPECT_NE(error.find("instruments: at least one instrument is required"), std::string::npos)
      << error;
}

TEST(Config, TomlSyntaxErrorReportsLineAndColumn) {
  const TempFile file("[risk]\nmax_order_notional = 5.0\nprice_collar_bps = = 3\n");
  const std::string error = load_error(with_file(file));
  EXPECT_NE(error.find("TOML syntax error at line 3, column"), std::string::npos) << error;
  EXPECT_NE(error.find(file.path()), std::string::npos) << error;
}

TEST(Config, SecretsAreMaskedInRender) {
  ConfigSources sources;
  sources.environment = {"QT_CAPITAL_API_KEY=abc123key", "QT_CAPITAL_PASSWORD=hunter2",
                         "QT_CAPITAL_IDENTIFIER=me@example.com"};
  const absl::StatusOr<std::string> rendered = render_effective_config(sources);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->find("abc123key"), std::string::npos) << *rendered;
  EXPECT_EQ(rendered->find("hunter2"), std::string::npos) << *rendered;
  EXPECT_NE(rendered->find("api_key = \"********\""), std::string::npos) << *rendered;
  EXPECT_NE(rendered->find("password = \"********\""), std::string::npos) << *rendered;
  EXPECT_NE(rendered->find("me@example.com"), std::string::npos) << *rendered;

  const absl::StatusOr<AppConfig> config = load_config(sources);  // the real values stay usable
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->capital_api_key, "abc123key");
  EXPECT_EQ(config->capital_password, "hunter2");
  EXPECT_EQ(config->capital_identifier, "me@example.com");
}

TEST(Config, SecretsAreMaskedInErrors) {
  const TempFile file("[capital]\npassword = 987654321\napi_key = \"x\"\n");
  ConfigSources sources = with_file(file);
  sources.set_overrides = {"capital.secret_token=zyx987"};
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("capital.password: expected string, got integer ********"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("987654321"), std::string::npos) << error;
  EXPECT_EQ(error.find("zyx987"), std::string::npos) << error;
}

TEST(Config, RenderedConfigLoadsBackToTheSameConfig) {
  ConfigSources sources;
  sources.set_overrides = {"risk.max_order_notional=1234.5", "instruments.2.max_position=7"};
  const absl::StatusOr<std::string> rendered = render_effective_config(sources);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  const TempFile file(*rendered);
  const absl::StatusOr<AppConfig> reloaded = load_config(with_file(file));
  ASSERT_TRUE(reloaded.ok()) << reloaded.status() << "\n" << *rendered;
  EXPECT_DOUBLE_EQ(reloaded->max_order_notional, 1234.5);
  ASSERT_EQ(reloaded->instruments.size(), 3u);
  EXPECT_DOUBLE_EQ(reloaded->instruments[2].max_position, 7);
  EXPECT_DOUBLE_EQ(reloaded->instruments[1].tick, 0.00001);
}

TEST(Config, MissingConfigFileErrorIsClear) {
  ConfigSources sources;
  sources.file_path = "/nonexistent/dir/quanttrading.toml";
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("config file \"/nonexistent/dir/quanttrading.toml\": cannot open: No such "
                       "file or directory"),
            std::string::npos)
      << error;
}

TEST(Config, ConfigPathThatIsADirectoryIsAClearError) {
  ConfigSources sources;
  sources.file_path = ::testing::TempDir();
  const std::string error = load_error(sources);
  EXPECT_NE(error.find("is a directory, not a file"), std::string::npos) << error;
}

TEST(Config, ProcessEnvironmentReadsEnviron) {
  ASSERT_EQ(::setenv("QT_CONFIG_TEST_MARKER", "yes", 1), 0);
  const std::vector<std::string> environment = process_environment();
  EXPECT_NE(std::find(environment.begin(), environment.end(), "QT_CONFIG_TEST_MARKER=yes"),
            environment.end());
  ::unsetenv("QT_CONFIG_TEST_MARKER");
}

}  // namespace
}  // namespace qt
