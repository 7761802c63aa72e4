// Catalog figures on SQLite and on PostgreSQL (a private, durable server started here):
//   - ingest rate: calls/s, IngestManifests batches of 100 realistic manifests per transaction
//     (--batch=N: N per call and transaction, e.g. to fill 1 M calls faster — still the real
//     ingest path);
//   - ListCalls latency p50/p99 over N catalogued calls: first page (50) unfiltered; a time
//     range (7 days) + caller contains + state filter; contains filters that match nothing
//     (caller in a week, number and participant over all calls); a free-text search; tenant +
//     duration sort; and the in-run baseline, GetCall by primary key, so figures can be stated
//     as ratios.
// N: --calls=N or CALLVAULT_BENCH_CALLS (default 20000; 1000000 for the docs run).
// --backends=sqlite,postgresql (default both). --batch=N (default 100). Other flags go to
// Google Benchmark.
// Usage: build/release/bench/catalog_bench --calls=20000
// Results: docs/performance.md. Figures are printed, never asserted.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "catalog/testing/manifests.h"
#include "catalog/testing/pg_server.h"
#include "catalog_corpus.h"

namespace {

using namespace callvault;
using namespace callvault::catalog;

using bench::CorpusManifest;
using bench::kDay;
using bench::kFirst;
using bench::kLast;
using bench::kSpanDays;
using bench::kT0;

struct Setup {
  std::string name;
  std::unique_ptr<Catalog> catalog;
  int64_t n = 0;
  int64_t batch = 100;
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::unique_ptr<Catalog> OpenOrDie(const std::string& url) {
  Result<std::unique_ptr<Catalog>> c = OpenCatalog({.url = url, .pool_size = 2});
  if (!c.ok()) {
    std::fprintf(stderr, "catalog_bench: %s\n", c.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(c).value();
}

void Ingest(Setup& s) {
  const auto start = std::chrono::steady_clock::now();
  double build_s = 0;
  for (int64_t i = 0; i < s.n; i += s.batch) {
    const auto b0 = std::chrono::steady_clock::now();
    std::vector<recording::Manifest> batch;
    for (int64_t k = i; k < std::min(s.n, i + s.batch); ++k) {
      batch.push_back(CorpusManifest(k, s.n));
    }
    build_s += Seconds(std::chrono::steady_clock::now() - b0);
    const Status st = s.catalog->IngestManifests(batch);
    if (!st.ok()) {
      std::fprintf(stderr, "catalog_bench: ingest: %s\n", st.ToString().c_str());
      std::exit(1);
    }
    const int64_t done = std::min(s.n, i + s.batch);
    if (s.n >= 100000 && done % (s.n / 10) < s.batch) {  // progress of long runs
      const double t = Seconds(std::chrono::steady_clock::now() - start) - build_s;
      std::fprintf(stderr, "%s: %lld calls ingested, %.0f calls/s\n", s.name.c_str(),
                   static_cast<long long>(done), done / t);
    }
  }
  const double total = Seconds(std::chrono::steady_clock::now() - start) - build_s;
  std::printf(
      "%-10s ingest: %lld calls in %.1f s = %.0f calls/s (batches of %d, one transaction "
      "each; manifest building excluded)\n",
      s.name.c_str(), static_cast<long long>(s.n), total, s.n / total, static_cast<int>(s.batch));
  std::fflush(stdout);
}

// Runs `query` each iteration, reporting p50/p99 in microseconds as counters.
template <typename Fn>
void Latency(benchmark::State& state, Fn query) {
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    query();
    us.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e6);
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void Check(const Result<CallPage>& page, size_t min_rows) {
  if (!page.ok() || page->calls.size() < min_rows) {
    std::fprintf(stderr, "catalog_bench: query returned %s\n",
                 page.ok() ? "too few rows" : page.status().ToString().c_str());
    std::exit(1);
  }
}

void Register(Setup* s) {
  const std::string p = s->name + "/";
  benchmark::RegisterBenchmark((p + "GetCallByKey_baseline").c_str(), [s](benchmark::State& st) {
    std::mt19937_64 rng(1);
    Latency(st, [&] {
      const int64_t i = static_cast<int64_t>(rng() % static_cast<uint64_t>(s->n));
      const int64_t started = kT0 + i * (kSpanDays * kDay / s->n);
      if (!s->catalog->GetCall(testing::TestCallId(started, static_cast<uint64_t>(i))).ok()) {
        std::exit(1);
      }
    });
  });
  benchmark::RegisterBenchmark((p + "ListFirstPage50").c_str(), [s](benchmark::State& st) {
    Latency(st, [&] { Check(s->catalog->ListCalls({}, {.limit = 50}), 50); });
  });
  benchmark::RegisterBenchmark(
      (p + "ListWeek+CallerContains+State").c_str(), [s](benchmark::State& st) {
        std::mt19937_64 rng(2);
        Latency(st, [&] {
          const int64_t from = kT0 + static_cast<int64_t>(rng() % 20) * kDay;
          CallFilter f{.started_from_ms = from,
                       .started_to_ms = from + 7 * kDay,
                       .caller = "+1555" + std::to_string(rng() % 10),
                       .states = {CallState::kCompleted}};
          Check(s->catalog->ListCalls(f, {.limit = 50}), 0);
        });
      });
  // The contains filters' worst case: nothing matches, so no page fills early. The bench's
  // caller numbers are +1555 followed by 1…9xxxxxx: "+15550" is in no call.
  benchmark::RegisterBenchmark(
      (p + "ListWeek+CallerContainsNoMatch+State").c_str(), [s](benchmark::State& st) {
        std::mt19937_64 rng(6);
        Latency(st, [&] {
          const int64_t from = kT0 + static_cast<int64_t>(rng() % 20) * kDay;
          CallFilter f{.started_from_ms = from,
                       .started_to_ms = from + 7 * kDay,
                       .caller = "+15550",
                       .states = {CallState::kCompleted}};
          Check(s->catalog->ListCalls(f, {.limit = 50}), 0);
        });
      });
  benchmark::RegisterBenchmark((p + "ListNumberContainsNoMatch").c_str(),
                               [s](benchmark::State& st) {
                                 Latency(st, [&] {
                                   CallFilter f{.number = "15550"};
                                   Check(s->catalog->ListCalls(f, {.limit = 50}), 0);
                                 });
                               });
  benchmark::RegisterBenchmark((p + "ListParticipantContainsNoMatch").c_str(),
                               [s](benchmark::State& st) {
                                 Latency(st, [&] {
                                   CallFilter f{.participant = "zzyx"};
                                   Check(s->catalog->ListCalls(f, {.limit = 50}), 0);
                                 });
                               });
  benchmark::RegisterBenchmark((p + "ListFreeText").c_str(), [s](benchmark::State& st) {
    std::mt19937_64 rng(3);
    Latency(st, [&] {
      CallFilter f{.text = std::string(kLast[rng() % 20]) + " " + kFirst[rng() % 20]};
      Check(s->catalog->ListCalls(f, {.limit = 50}), 0);
    });
  });
  benchmark::RegisterBenchmark((p + "ListFreeTextRare").c_str(), [s](benchmark::State& st) {
    std::mt19937_64 rng(4);
    Latency(st, [&] {
      const int64_t i = static_cast<int64_t>(rng() % static_cast<uint64_t>(s->n / 100)) * 100;
      CallFilter f{.text = "ticket " + std::to_string(i)};
      Check(s->catalog->ListCalls(f, {.limit = 50}), 1);
    });
  });
  benchmark::RegisterBenchmark((p + "ListTenantByDuration").c_str(), [s](benchmark::State& st) {
    std::mt19937_64 rng(5);
    Latency(st, [&] {
      CallFilter f{.tenant = "tenant" + std::to_string(rng() % 5)};
      Check(s->catalog->ListCalls(f, {.sort = SortKey::kDuration, .limit = 50}), 50);
    });
  });
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 20000;
  if (const char* env = std::getenv("CALLVAULT_BENCH_CALLS")) n = std::atoll(env);
  int64_t batch = 100;
  std::string backends = "sqlite,postgresql";
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--calls=", 8) == 0) {
      n = std::atoll(argv[i] + 8);
    } else if (std::strncmp(argv[i], "--batch=", 8) == 0) {
      batch = std::max<int64_t>(1, std::atoll(argv[i] + 8));
    } else if (std::strncmp(argv[i], "--backends=", 11) == 0) {
      backends = argv[i] + 11;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (n < 1000) n = 1000;
  InitLogging({.level = "warn"}).IgnoreError();

  char tmpl[] = "/tmp/cv-catalog-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::unique_ptr<testing::PgServer> pg;
  std::vector<std::unique_ptr<Setup>> setups;
  if (backends.find("sqlite") != std::string::npos) {
    setups.push_back(
        std::make_unique<Setup>(Setup{"sqlite", OpenOrDie(dir + "/catalog.db"), n, batch}));
  }
  if (backends.find("postgresql") != std::string::npos) {
    Result<std::unique_ptr<testing::PgServer>> server =
        testing::PgServer::Start({.fast_unsafe = false});
    if (!server.ok()) {
      std::fprintf(stderr, "catalog_bench: %s\n", server.status().ToString().c_str());
      return 1;
    }
    pg = std::move(server).value();
    if (!pg->CreateDatabase("bench").ok()) return 1;
    setups.push_back(
        std::make_unique<Setup>(Setup{"postgresql", OpenOrDie(pg->Uri("bench")), n, batch}));
  }
  std::printf("catalog_bench: %lld calls over %lld days (PostgreSQL: durable settings)\n",
              static_cast<long long>(n), static_cast<long long>(kSpanDays));
  for (auto& s : setups) {
    Ingest(*s);
    Register(s.get());
  }
  int bargc = static_cast<int>(rest.size());
  benchmark::Initialize(&bargc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  setups.clear();
  pg.reset();
  DefaultFs()->RemoveAll(dir).IgnoreError();
  return 0;
}
