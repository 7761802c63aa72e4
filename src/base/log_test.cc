#include "base/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <vector>

namespace callvault {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Routes the default logger into a string for the test, restores the previous one after.
class LogCapture : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = spdlog::default_logger(); }
  void TearDown() override { spdlog::set_default_logger(saved_); }

  void Capture(std::string_view format, spdlog::level::level_enum level) {
    out_.str("");
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_formatter(internal::NewLogFormatter(format));
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(level);
    spdlog::set_default_logger(logger);
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> saved_;
};

TEST_F(LogCapture, TextLineIsTimestampLevelEventAndFields) {
  Capture("text", spdlog::level::info);
  CV_LOG_INFO("sip.listening", "transport={} addr={}", "UDP", "127.0.0.1:5060");
  auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      lines[0], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info )"
                           R"(event=sip\.listening transport=UDP addr=127\.0\.0\.1:5060)")))
      << lines[0];
}

TEST_F(LogCapture, LevelNamesAndFiltering) {
  Capture("text", spdlog::level::info);
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  CV_LOG_TRACE("t.trace", "n={}", 1);
  CV_LOG_DEBUG("t.debug", "n={}", count());
  CV_LOG_INFO("t.info", "n={}", 3);
  CV_LOG_WARN("t.warn", "n={}", 4);
  CV_LOG_ERROR("t.error", "n={}", 5);
  auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  EXPECT_NE(lines[0].find(" info event=t.info n=3"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" warn event=t.warn n=4"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(" error event=t.error n=5"), std::string::npos) << lines[2];
  EXPECT_EQ(evaluated, 0);  // a disabled level does not evaluate its arguments
}

TEST_F(LogCapture, EventWithoutFieldsHasNoTrailingSpace) {
  Capture("text", spdlog::level::trace);
  CV_LOG_DEBUG("app.started", "");
  auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ends_with(" debug event=app.started")) << lines[0];
}

TEST_F(LogCapture, NewlinesFromThePeerCannotForgeALine) {
  Capture("text", spdlog::level::info);
  CV_LOG_WARN("sip.bad_request", "reason=\"{}\"", "x\r\nFAKE info event=forged\x01");
  auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].ends_with(R"(reason="x\r\nFAKE info event=forged\x01")")) << lines[0];
}

TEST_F(LogCapture, JsonLinesParseWithEventAndMessage) {
  Capture("json", spdlog::level::debug);
  CV_LOG_INFO("sip.listening", "transport={} addr={}", "UDP", "127.0.0.1:5060");
  CV_LOG_DEBUG("siprec.start", "call={} from=\"{}\"", "0190", "A \"quoted\" \\ name\n");
  CV_LOG_WARN("t.bytes", "raw={}", std::string("\xff\xfe ok \xc3\xa9", 8));
  spdlog::info("plain spdlog line");
  auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 4u) << out_.str();
  std::vector<nlohmann::json> j;
  for (const auto& line : lines) {
    ASSERT_TRUE(nlohmann::json::accept(line)) << line;
    j.push_back(nlohmann::json::parse(line));
  }
  EXPECT_TRUE(std::regex_match(j[0]["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(j[0]["level"], "info");
  EXPECT_EQ(j[0]["event"], "sip.listening");
  EXPECT_EQ(j[0]["msg"], "transport=UDP addr=127.0.0.1:5060");
  EXPECT_EQ(j[1]["level"], "debug");
  EXPECT_EQ(j[1]["msg"], "call=0190 from=\"A \"quoted\" \\ name\n\"");
  EXPECT_EQ(j[2]["msg"], "raw=\xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9");  // invalid bytes → U+FFFD
  EXPECT_FALSE(j[3].contains("event"));
  EXPECT_EQ(j[3]["msg"], "plain spdlog line");
}

TEST(ParseLogLevelTest, KnownAndUnknownNames) {
  spdlog::level::level_enum level = spdlog::level::off;
  ASSERT_TRUE(ParseLogLevel("debug", &level).ok());
  EXPECT_EQ(level, spdlog::level::debug);
  ASSERT_TRUE(ParseLogLevel("warn", &level).ok());
  EXPECT_EQ(level, spdlog::level::warn);
  ASSERT_TRUE(ParseLogLevel("error", &level).ok());
  EXPECT_EQ(level, spdlog::level::err);
  Status s = ParseLogLevel("verbose", &level);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("verbose"), std::string_view::npos);
}

TEST(MaskDigitsTest, KeepsLastFourAndCountryArea) {
  EXPECT_EQ(MaskDigits("sip:+15551234567@host"), "sip:+1555***4567@host");
  EXPECT_EQ(MaskDigits("tel:+1-555-123-4567"), "tel:+1-555-***-4567");
  EXPECT_EQ(MaskDigits("5551234"), "***1234");
  EXPECT_EQ(MaskDigits("sip:1001@10.0.0.1:5060"), "sip:1001@10.0.0.1:5060");  // extension, host
  EXPECT_EQ(MaskDigits("sip:alice@example.com"), "sip:alice@example.com");
  EXPECT_EQ(MaskDigits("sip:+442079460958@h"), "sip:+4420****0958@h");
  EXPECT_EQ(MaskDigits(""), "");
}

class InitLoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = spdlog::default_logger();
    path_ = (std::filesystem::temp_directory_path() /
             ("cv_log_test_" + std::to_string(::getpid()) + ".log"))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override {
    ASSERT_TRUE(InitLogging(LogOptions{}).ok());  // back to stderr, closes the file
    spdlog::set_default_logger(saved_);
    std::filesystem::remove(path_);
  }
  std::string ReadLog() {
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::shared_ptr<spdlog::logger> saved_;
  std::string path_;
};

TEST_F(InitLoggingTest, ReloadChangesLevelFormatAndMasking) {
  LogOptions options;
  options.file = path_;
  ASSERT_TRUE(InitLogging(options).ok());
  CV_LOG_DEBUG("t.hidden", "n={}", 1);
  CV_LOG_INFO("t.text", "aor={}", LogAor("sip:+15551234567@h"));

  options.level = "debug";
  options.format = "json";
  options.mask_numbers = true;
  ASSERT_TRUE(InitLogging(options).ok());  // the SIGHUP path
  CV_LOG_DEBUG("t.json", "aor={}", LogAor("sip:+15551234567@h"));

  auto lines = Lines(ReadLog());
  ASSERT_EQ(lines.size(), 2u) << ReadLog();
  EXPECT_TRUE(lines[0].ends_with(" info event=t.text aor=sip:+15551234567@h")) << lines[0];
  auto j = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(j["level"], "debug");
  EXPECT_EQ(j["event"], "t.json");
  EXPECT_EQ(j["msg"], "aor=sip:+1555***4567@h");
}

TEST_F(InitLoggingTest, BadOptionsAreRejectedAndChangeNothing) {
  LogOptions options;
  options.file = path_;
  ASSERT_TRUE(InitLogging(options).ok());

  LogOptions bad = options;
  bad.level = "loud";
  EXPECT_EQ(InitLogging(bad).code(), StatusCode::kInvalidArgument);
  bad = options;
  bad.format = "xml";
  EXPECT_EQ(InitLogging(bad).code(), StatusCode::kInvalidArgument);
  bad = options;
  bad.file = "/nonexistent-dir/x.log";
  Status s = InitLogging(bad);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("/nonexistent-dir/x.log"), std::string_view::npos) << s.ToString();

  CV_LOG_INFO("t.still", "ok={}", true);
  EXPECT_NE(ReadLog().find("info event=t.still ok=true"), std::string::npos) << ReadLog();
}

}  // namespace
}  // namespace callvault
