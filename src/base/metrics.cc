#include "base/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace callvault {

struct Registry::Series {
  std::string labels_text;  // `a="1",b="2"` (sorted by name, escaped); "" = no labels
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::function<double()> callback;
};

struct Registry::MetricFamily {
  Type type;
  std::string help;
  std::vector<double> buckets;                            // histograms
  std::map<std::string, std::unique_ptr<Series>> series;  // by labels_text
};

namespace {

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view s) {
  if (s.empty() || s.starts_with("__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string_view TypeName(int type) {
  static constexpr std::string_view kNames[] = {"counter", "gauge", "histogram"};
  return kNames[type];
}

void AppendEscaped(std::string& out, std::string_view s, bool quote_too) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote_too) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

Status CheckLabelNames(std::string_view metric, const std::vector<std::string_view>& names,
                       bool histogram) {
  std::set<std::string_view> seen;
  for (std::string_view n : names) {
    if (!IsLabelName(n)) {
      return InvalidArgumentError(fmt::format("metric {}: bad label name \"{}\"", metric, n));
    }
    if (histogram && n == "le") {
      return InvalidArgumentError(fmt::format("metric {}: label \"le\" is reserved", metric));
    }
    if (!seen.insert(n).second) {
      return InvalidArgumentError(fmt::format("metric {}: duplicate label \"{}\"", metric, n));
    }
  }
  return Status::Ok();
}

Status CheckBuckets(std::string_view metric, const std::vector<double>& buckets) {
  if (buckets.empty()) return InvalidArgumentError(fmt::format("metric {}: no buckets", metric));
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
      return InvalidArgumentError(
          fmt::format("metric {}: buckets must be finite and strictly increasing", metric));
    }
  }
  return Status::Ok();
}

// Sorted by name, escaped: `a="1",b="x\"y"`.
std::string LabelsText(MetricLabels labels) {
  std::sort(labels.begin(), labels.end());
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    AppendEscaped(out, value, /*quote_too=*/true);
    out += '"';
  }
  return out;
}

void AppendSample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  CV_CHECK(start > 0 && factor > 1 && count >= 1);
  std::vector<double> out;
  for (int i = 0; i < count; ++i, start *= factor) out.push_back(start);
  return out;
}

template <typename M>
M* Family<M>::With(const std::vector<std::string>& values) const {
  CV_CHECK_MSG(values.size() == label_names_.size(), "metric " + name_ + ": wrong label count");
  MetricLabels labels = const_labels_;
  for (size_t i = 0; i < values.size(); ++i) labels.emplace_back(label_names_[i], values[i]);
  Registry::Type type = std::is_same_v<M, Counter> ? Registry::Type::kCounter
                        : std::is_same_v<M, Gauge> ? Registry::Type::kGauge
                                                   : Registry::Type::kHistogram;
  auto series = registry_->GetSeries(type, name_, "", labels, nullptr, nullptr);
  CV_CHECK_MSG(series.ok(), series.status().ToString());  // names were validated by Add*Family
  if constexpr (std::is_same_v<M, Counter>) return (*series)->counter.get();
  if constexpr (std::is_same_v<M, Gauge>) return (*series)->gauge.get();
  if constexpr (std::is_same_v<M, Histogram>) return (*series)->histogram.get();
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry() = default;
Registry::~Registry() = default;

Result<Registry::Series*> Registry::GetSeries(Type type, std::string_view name,
                                              std::string_view help, const MetricLabels& labels,
                                              const std::vector<double>* buckets,
                                              std::function<double()> callback) {
  if (!IsMetricName(name)) {
    return InvalidArgumentError(fmt::format("bad metric name \"{}\"", name));
  }
  std::vector<std::string_view> label_names;
  for (const auto& l : labels) label_names.push_back(l.first);
  CV_RETURN_IF_ERROR(CheckLabelNames(name, label_names, type == Type::kHistogram));
  if (buckets != nullptr) CV_RETURN_IF_ERROR(CheckBuckets(name, *buckets));

  MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (type == Type::kHistogram && buckets == nullptr) {
      return InternalError(fmt::format("metric {}: histogram without buckets", name));
    }
    auto family = std::make_unique<MetricFamily>();
    family->type = type;
    family->help = std::string(help);
    if (buckets != nullptr) family->buckets = *buckets;
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  MetricFamily& family = *it->second;
  if (family.type != type) {
    return InvalidArgumentError(fmt::format("metric {}: already registered as a {}, not a {}", name,
                                            TypeName(static_cast<int>(family.type)),
                                            TypeName(static_cast<int>(type))));
  }
  if (buckets != nullptr && *buckets != family.buckets) {
    return InvalidArgumentError(fmt::format("metric {}: registered with other buckets", name));
  }
  std::string text = LabelsText(labels);
  auto& series = family.series[text];
  if (series != nullptr) {
    if (callback || series->callback) {
      return AlreadyExistsError(fmt::format("metric {}{{{}}}: already registered", name, text));
    }
    return series.get();
  }
  series = std::make_unique<Series>();
  series->labels_text = std::move(text);
  if (callback) {
    series->callback = std::move(callback);
  } else if (type == Type::kCounter) {
    series->counter = std::make_unique<Counter>();
  } else if (type == Type::kGauge) {
    series->gauge = std::make_unique<Gauge>();
  } else {
    series->histogram = std::make_unique<Histogram>(family.buckets);
  }
  return series.get();
}

Result<Counter*> Registry::AddCounter(std::string_view name, std::string_view help,
                                      const MetricLabels& labels) {
  CV_ASSIGN_OR_RETURN(Series * s, GetSeries(Type::kCounter, name, help, labels, nullptr, nullptr));
  if (s->counter == nullptr) {
    return AlreadyExistsError(fmt::format("metric {}: registered as a callback", name));
  }
  return s->counter.get();
}

Result<Gauge*> Registry::AddGauge(std::string_view name, std::string_view help,
                                  const MetricLabels& labels) {
  CV_ASSIGN_OR_RETURN(Series * s, GetSeries(Type::kGauge, name, help, labels, nullptr, nullptr));
  if (s->gauge == nullptr) {
    return AlreadyExistsError(fmt::format("metric {}: registered as a callback", name));
  }
  return s->gauge.get();
}

Result<Histogram*> Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<double> buckets, const MetricLabels& labels) {
  CV_ASSIGN_OR_RETURN(Series * s,
                      GetSeries(Type::kHistogram, name, help, labels, &buckets, nullptr));
  return s->histogram.get();
}

Status Registry::AddCallbackGauge(std::string_view name, std::string_view help,
                                  std::function<double()> read, const MetricLabels& labels) {
  CV_CHECK(read != nullptr);
  return GetSeries(Type::kGauge, name, help, labels, nullptr, std::move(read)).status();
}

Status Registry::AddCallbackCounter(std::string_view name, std::string_view help,
                                    std::function<double()> read, const MetricLabels& labels) {
  CV_CHECK(read != nullptr);
  return GetSeries(Type::kCounter, name, help, labels, nullptr, std::move(read)).status();
}

Status Registry::CheckFamily(Type type, std::string_view name, std::string_view help,
                             const std::vector<std::string>& label_names,
                             const MetricLabels& const_labels, const std::vector<double>* buckets) {
  if (!IsMetricName(name)) {
    return InvalidArgumentError(fmt::format("bad metric name \"{}\"", name));
  }
  std::vector<std::string_view> all;
  for (const auto& l : const_labels) all.push_back(l.first);
  for (const auto& n : label_names) all.push_back(n);
  CV_RETURN_IF_ERROR(CheckLabelNames(name, all, type == Type::kHistogram));
  if (buckets != nullptr) CV_RETURN_IF_ERROR(CheckBuckets(name, *buckets));
  MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<MetricFamily>();
    family->type = type;
    family->help = std::string(help);
    if (buckets != nullptr) family->buckets = *buckets;
    families_.emplace(std::string(name), std::move(family));
    return Status::Ok();
  }
  if (it->second->type != type) {
    return InvalidArgumentError(fmt::format("metric {}: already registered as a {}, not a {}", name,
                                            TypeName(static_cast<int>(it->second->type)),
                                            TypeName(static_cast<int>(type))));
  }
  if (buckets != nullptr && *buckets != it->second->buckets) {
    return InvalidArgumentError(fmt::format("metric {}: registered with other buckets", name));
  }
  return Status::Ok();
}

Result<Family<Counter>> Registry::AddCounterFamily(std::string_view name, std::string_view help,
                                                   std::vector<std::string> label_names,
                                                   MetricLabels const_labels) {
  CV_RETURN_IF_ERROR(CheckFamily(Type::kCounter, name, help, label_names, const_labels, nullptr));
  return Family<Counter>(this, std::string(name), std::move(label_names), std::move(const_labels));
}

Result<Family<Gauge>> Registry::AddGaugeFamily(std::string_view name, std::string_view help,
                                               std::vector<std::string> label_names,
                                               MetricLabels const_labels) {
  CV_RETURN_IF_ERROR(CheckFamily(Type::kGauge, name, help, label_names, const_labels, nullptr));
  return Family<Gauge>(this, std::string(name), std::move(label_names), std::move(const_labels));
}

Result<Family<Histogram>> Registry::AddHistogramFamily(std::string_view name, std::string_view help,
                                                       std::vector<double> buckets,
                                                       std::vector<std::string> label_names,
                                                       MetricLabels const_labels) {
  CV_RETURN_IF_ERROR(
      CheckFamily(Type::kHistogram, name, help, label_names, const_labels, &buckets));
  return Family<Histogram>(this, std::string(name), std::move(label_names),
                           std::move(const_labels));
}

std::string Registry::Render() const {
  // Snapshot the structure under the lock; read values (and run callbacks) without it.
  struct Item {
    std::string_view name;
    const MetricFamily* family;
    std::vector<const Series*> series;
  };
  std::vector<Item> items;
  {
    MutexLock lock(&mu_);
    for (const auto& [name, family] : families_) {
      if (family->series.empty()) continue;
      Item item{name, family.get(), {}};
      for (const auto& [text, series] : family->series) item.series.push_back(series.get());
      items.push_back(std::move(item));
    }
  }
  // Families and series are never removed, so the pointers stay valid; help, type, buckets and
  // labels_text are immutable once created.
  std::string out;
  for (const Item& item : items) {
    out += "# HELP ";
    out += item.name;
    out += ' ';
    AppendEscaped(out, item.family->help, /*quote_too=*/false);
    out += "\n# TYPE ";
    out += item.name;
    out += ' ';
    out += TypeName(static_cast<int>(item.family->type));
    out += '\n';
    for (const Series* s : item.series) {
      if (s->callback) {
        AppendSample(out, item.name, s->labels_text, FormatValue(s->callback()));
      } else if (s->counter) {
        AppendSample(out, item.name, s->labels_text, std::to_string(s->counter->value()));
      } else if (s->gauge) {
        AppendSample(out, item.name, s->labels_text, FormatValue(s->gauge->value()));
      } else {
        const Histogram& h = *s->histogram;
        std::vector<uint64_t> counts = h.bucket_counts();
        std::string bucket_name = std::string(item.name) + "_bucket";
        std::string prefix = s->labels_text.empty() ? "" : s->labels_text + ",";
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
          AppendSample(out, bucket_name, prefix + "le=\"" + le + "\"", std::to_string(cumulative));
        }
        AppendSample(out, std::string(item.name) + "_sum", s->labels_text, FormatValue(h.sum()));
        AppendSample(out, std::string(item.name) + "_count", s->labels_text,
                     std::to_string(cumulative));
      }
    }
  }
  return out;
}

}  // namespace callvault
