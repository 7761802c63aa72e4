// Metrics: a registry of counters, gauges and histograms rendered as Prometheus text exposition
// format 0.0.4 (served by http/ at /metrics; STYLE.md §10).
//
//   Registry registry;                                   // app/ owns one, passes it down
//   Counter* calls = registry.AddCounter("callvault_calls_total", "Calls recorded.").value();
//   auto requests = registry.AddCounterFamily("sip_requests_total", "SIP requests received.",
//                                             {"method"}).value();
//   requests.With({"INVITE"})->Inc();                   // cache the pointer on hot paths
//
// Names follow Prometheus conventions: base unit in the name (`_seconds`, `_bytes`), counters end
// in `_total`. Each component declares its metrics in one place, beside the code that owns them.
// A series is a name plus a label set (label order does not matter). Registering the same series
// again returns the same object; the same name with another type (or other histogram buckets) is
// an error. Series are never removed, so keep label values bounded (methods, status classes —
// never call ids or phone numbers).
//
// Thread-safety: Registry is thread-safe. Counter, Gauge and Histogram updates are lock-free
// (relaxed atomics) and may come from any thread; pointers stay valid for the registry's life.
// Family<> values are cheap to copy and thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"

namespace callvault {

// {{"method", "INVITE"}, {"transport", "UDP"}}
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc() { Add(1); }
  void Add(uint64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Holds a double (integers up to 2^53 are exact).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets (upper bounds, inclusive) plus +Inf.
class Histogram {
 public:
  // REQUIRES: `bounds` strictly increasing and finite (Registry validates).
  explicit Histogram(std::vector<double> bounds);

  // NaN is ignored.
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts; the last is the +Inf bucket.
  std::vector<uint64_t> bucket_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// {start, start*factor, ...}: `count` bounds. REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

class Registry;

// Series of one metric name that differ by the values of `label_names`, created on first use.
// M is Counter, Gauge or Histogram.
template <typename M>
class Family {
 public:
  // The series with these label values (in the order of label_names), created if needed.
  // REQUIRES: values.size() == number of label names.
  M* With(const std::vector<std::string>& values) const;

 private:
  friend class Registry;
  Family(Registry* registry, std::string name, std::vector<std::string> label_names,
         MetricLabels const_labels)
      : registry_(registry),
        name_(std::move(name)),
        label_names_(std::move(label_names)),
        const_labels_(std::move(const_labels)) {}

  Registry* registry_;
  std::string name_;
  std::vector<std::string> label_names_;
  MetricLabels const_labels_;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the series `name{labels}`, creating it on first registration. Errors
  // (InvalidArgument): bad metric or label name (metric [a-zA-Z_:][a-zA-Z0-9_:]*, label
  // [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", "le" reserved for histograms), duplicate
  // label names, `name` already used by another type, bad or different histogram buckets.
  // Label values may be any UTF-8 text (escaped on output). `help` is kept from the first
  // registration of a name.
  Result<Counter*> AddCounter(std::string_view name, std::string_view help,
                              const MetricLabels& labels = {});
  Result<Gauge*> AddGauge(std::string_view name, std::string_view help,
                          const MetricLabels& labels = {});
  Result<Histogram*> AddHistogram(std::string_view name, std::string_view help,
                                  std::vector<double> buckets, const MetricLabels& labels = {});

  // A gauge (or counter) whose value is read by calling `read` at each Render(), e.g. the
  // number of active dialogs. `read` is called without the registry's lock held, possibly from
  // any thread, and must not register metrics. REQUIRES: `read` stays callable for the
  // registry's life. Registering the same series twice is AlreadyExists.
  [[nodiscard]] Status AddCallbackGauge(std::string_view name, std::string_view help,
                                        std::function<double()> read,
                                        const MetricLabels& labels = {});
  [[nodiscard]] Status AddCallbackCounter(std::string_view name, std::string_view help,
                                          std::function<double()> read,
                                          const MetricLabels& labels = {});

  // Families: series created per label values at run time; `const_labels` go on every series.
  Result<Family<Counter>> AddCounterFamily(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names,
                                           MetricLabels const_labels = {});
  Result<Family<Gauge>> AddGaugeFamily(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names,
                                       MetricLabels const_labels = {});
  Result<Family<Histogram>> AddHistogramFamily(std::string_view name, std::string_view help,
                                               std::vector<double> buckets,
                                               std::vector<std::string> label_names,
                                               MetricLabels const_labels = {});

  // Prometheus text format 0.0.4 (Content-Type: text/plain; version=0.0.4), metrics sorted by
  // name, series by label text. Names with no series yet are left out.
  std::string Render() const EXCLUDES(mu_);

 private:
  template <typename M>
  friend class Family;
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series;
  struct MetricFamily;

  // Finds or creates the series; `callback` non-null for callback metrics.
  Result<Series*> GetSeries(Type type, std::string_view name, std::string_view help,
                            const MetricLabels& labels, const std::vector<double>* buckets,
                            std::function<double()> callback) EXCLUDES(mu_);
  Status CheckFamily(Type type, std::string_view name, std::string_view help,
                     const std::vector<std::string>& label_names, const MetricLabels& const_labels,
                     const std::vector<double>* buckets) EXCLUDES(mu_);

  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamily>, std::less<>> families_ GUARDED_BY(mu_);
};

}  // namespace callvault
