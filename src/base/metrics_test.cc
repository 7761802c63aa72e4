#include "base/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace callvault {
namespace {

TEST(MetricsTest, RendersExactExpositionText) {
  Registry r;
  Counter* calls = r.AddCounter("callvault_calls_total", "Calls recorded.").value();
  calls->Add(3);
  auto requests = r.AddCounterFamily("sip_requests_total", "SIP requests received.", {"method"},
                                     {{"transport", "udp"}})
                      .value();
  requests.With({"INVITE"})->Inc();
  requests.With({"INVITE"})->Inc();
  requests.With({"BYE"})->Inc();
  Gauge* free = r.AddGauge("disk_free_ratio", "Free space.\nOn the spool disk \\ data.").value();
  free->Set(0.25);
  int dialogs = 7;
  ASSERT_TRUE(
      r.AddCallbackGauge("sip_dialogs_active", "Dialogs.", [&dialogs] { return dialogs; }).ok());
  Histogram* latency = r.AddHistogram("spool_sync_seconds", "fdatasync latency.",
                                      {0.001, 0.01, 0.1}, {{"disk", "a\"b\\c\nd"}})
                           .value();
  latency->Observe(0.0005);
  latency->Observe(0.001);  // bounds are inclusive
  latency->Observe(0.05);
  latency->Observe(3);

  EXPECT_EQ(r.Render(),
            "# HELP callvault_calls_total Calls recorded.\n"
            "# TYPE callvault_calls_total counter\n"
            "callvault_calls_total 3\n"
            "# HELP disk_free_ratio Free space.\\nOn the spool disk \\\\ data.\n"
            "# TYPE disk_free_ratio gauge\n"
            "disk_free_ratio 0.25\n"
            "# HELP sip_dialogs_active Dialogs.\n"
            "# TYPE sip_dialogs_active gauge\n"
            "sip_dialogs_active 7\n"
            "# HELP sip_requests_total SIP requests received.\n"
            "# TYPE sip_requests_total counter\n"
            "sip_requests_total{method=\"BYE\",transport=\"udp\"} 1\n"
            "sip_requests_total{method=\"INVITE\",transport=\"udp\"} 2\n"
            "# HELP spool_sync_seconds fdatasync latency.\n"
            "# TYPE spool_sync_seconds histogram\n"
            "spool_sync_seconds_bucket{disk=\"a\\\"b\\\\c\\nd\",le=\"0.001\"} 2\n"
            "spool_sync_seconds_bucket{disk=\"a\\\"b\\\\c\\nd\",le=\"0.01\"} 2\n"
            "spool_sync_seconds_bucket{disk=\"a\\\"b\\\\c\\nd\",le=\"0.1\"} 3\n"
            "spool_sync_seconds_bucket{disk=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 4\n"
            "spool_sync_seconds_sum{disk=\"a\\\"b\\\\c\\nd\"} 3.0515\n"
            "spool_sync_seconds_count{disk=\"a\\\"b\\\\c\\nd\"} 4\n");

  dialogs = 9;  // read at render time
  EXPECT_NE(r.Render().find("sip_dialogs_active 9\n"), std::string::npos);
}

TEST(MetricsTest, SameSeriesTwiceIsTheSameObject) {
  Registry r;
  Counter* a = r.AddCounter("x_total", "X.", {{"a", "1"}, {"b", "2"}}).value();
  Counter* b = r.AddCounter("x_total", "X.", {{"b", "2"}, {"a", "1"}}).value();  // any order
  EXPECT_EQ(a, b);
  Counter* c = r.AddCounter("x_total", "X.", {{"a", "1"}, {"b", "3"}}).value();
  EXPECT_NE(a, c);
  auto family = r.AddCounterFamily("x_total", "X.", {"b"}, {{"a", "1"}}).value();
  EXPECT_EQ(family.With({"2"}), a);
}

TEST(MetricsTest, RegistrationErrors) {
  Registry r;
  ASSERT_TRUE(r.AddCounter("m", "M.").ok());
  auto wrong_type = r.AddGauge("m", "M.");
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_type.status().message().find("already registered as a counter"),
            std::string_view::npos);
  EXPECT_FALSE(r.AddHistogram("m", "M.", {1}).ok());
  EXPECT_FALSE(r.AddGaugeFamily("m", "M.", {"x"}).ok());
  EXPECT_EQ(r.AddCounter("1bad", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.AddCounter("bad-name", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.AddCounter("ns:ok_name_total", "").ok());
  EXPECT_FALSE(r.AddCounter("c", "", {{"__reserved", "x"}}).ok());
  EXPECT_FALSE(r.AddCounter("c", "", {{"bad-label", "x"}}).ok());
  EXPECT_FALSE(r.AddCounter("c", "", {{"a", "x"}, {"a", "y"}}).ok());
  EXPECT_FALSE(r.AddHistogram("h", "", {1, 2}, {{"le", "x"}}).ok());
  EXPECT_FALSE(r.AddHistogram("h", "", {2, 1}).ok());
  EXPECT_FALSE(r.AddHistogram("h", "", {}).ok());
  ASSERT_TRUE(r.AddHistogram("h", "", {1, 2}).ok());
  EXPECT_FALSE(r.AddHistogram("h", "", {1, 3}).ok());  // other buckets
  ASSERT_TRUE(r.AddCallbackGauge("cb", "", [] { return 1.0; }).ok());
  EXPECT_EQ(r.AddCallbackGauge("cb", "", [] { return 2.0; }).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(r.AddGauge("cb", "").status().code(), StatusCode::kAlreadyExists);
}

TEST(MetricsTest, HistogramFamilyAndExponentialBuckets) {
  Registry r;
  auto buckets = ExponentialBuckets(0.001, 10, 3);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_DOUBLE_EQ(buckets[2], 0.1);
  auto family = r.AddHistogramFamily("t_seconds", "T.", {1, 2}, {"op"}).value();
  family.With({"read"})->Observe(1.5);
  EXPECT_EQ(r.Render(),
            "# HELP t_seconds T.\n"
            "# TYPE t_seconds histogram\n"
            "t_seconds_bucket{op=\"read\",le=\"1\"} 0\n"
            "t_seconds_bucket{op=\"read\",le=\"2\"} 1\n"
            "t_seconds_bucket{op=\"read\",le=\"+Inf\"} 1\n"
            "t_seconds_sum{op=\"read\"} 1.5\n"
            "t_seconds_count{op=\"read\"} 1\n");
}

TEST(MetricsTest, EmptyFamilyIsNotRenderedAndSpecialValues) {
  Registry r;
  ASSERT_TRUE(r.AddGaugeFamily("g", "G.", {"x"}).ok());
  EXPECT_EQ(r.Render(), "");
  Gauge* g = r.AddGauge("inf", "").value();
  g->Set(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.Render(), "# HELP inf \n# TYPE inf gauge\ninf -Inf\n");
}

TEST(MetricsTest, ConcurrentUpdatesAndRegistration) {
  Registry r;
  auto family = r.AddCounterFamily("ops_total", "Ops.", {"worker"}).value();
  Gauge* gauge = r.AddGauge("level", "").value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Counter* mine = family.With({std::to_string(t % 2)});
      for (int i = 0; i < 10000; ++i) {
        mine->Inc();
        gauge->Add(1);
        if (i % 1000 == 0) (void)r.Render();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(family.With({"0"})->value() + family.With({"1"})->value(), 40000u);
  EXPECT_EQ(gauge->value(), 40000);
}

}  // namespace
}  // namespace callvault
