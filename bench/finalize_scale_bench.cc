// Finalize at scale (issue 18): audio seconds per CPU second and peak RSS for 1-minute, 1-hour and
// 10-hour two-stream G.711 calls (20 ms packets, jitter), each written straight into a version 2
// spool and finalized to WAV in a child process (so its peak RSS is the finalize's own). In-run
// baseline, per call: a child that only copies the spool's bytes durably (read in 1 MiB pieces,
// write, fsync) — the least a finalizer must touch.
//
// Usage: build/release/bench/finalize_scale_bench [SECONDS...]   (default: 60 3600 36000)
// Needs ≈ 2 GB of free space under $TMPDIR for the 10-hour call. Results: docs/performance.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "recording/finalizer.h"
#include "recording/testing/spool_fixture.h"
#include "recording/testing/temp_dir.h"

namespace {

using namespace callvault;

constexpr int64_t kT0 = 1'795'600'000'000'000'000;

struct ChildRun {
  bool ok = false;
  double wall_s = 0, cpu_s = 0, peak_mib = 0;
};

ChildRun InChild(const std::function<bool()>& work) {
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) _exit(work() ? 0 : 1);
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) std::abort();
  ChildRun r;
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  r.peak_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  return r;
}

bool CopyDurably(const std::string& from, const std::string& to) {
  Fs& fs = *DefaultFs();
  auto in = fs.NewRandomAccessFile(from);
  auto out = fs.NewWritableFile(to);
  if (!in.ok() || !out.ok()) return false;
  std::string buf(1 << 20, '\0');
  for (uint64_t off = 0; off < (*in)->size();) {
    Result<size_t> n = (*in)->Read(off, buf.size(), buf.data());
    if (!n.ok() || *n == 0) return false;
    if (!(*out)->Append(std::string_view(buf.data(), *n)).ok()) return false;
    off += *n;
  }
  return (*out)->Sync().ok() && (*out)->Close().ok();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> durations;
  for (int i = 1; i < argc; ++i) durations.push_back(std::atoll(argv[i]));
  if (durations.empty()) durations = {60, 3600, 36000};
  std::printf("%-9s %10s | %-34s | %-34s | %s\n", "call", "spool MiB",
              "finalize: audio s/CPU s, peak RSS", "baseline copy: audio s/CPU s, RSS",
              "finalize CPU ÷ copy CPU");
  for (int64_t seconds : durations) {
    recording::testing::TempDir tmp;
    const std::string dir = tmp.path() + "/spool/018f0000-0000-7000-8000-000000000001";
    recording::testing::WriteLongCall(DefaultFs(), dir, kT0, seconds);
    const std::string spool = dir + "/" + std::string(media::spool::kCallSpoolName);
    const double spool_mib =
        static_cast<double>(DefaultFs()->FileSize(spool).value()) / (1 << 20);
    const ChildRun copy = InChild([&] { return CopyDurably(spool, tmp.path() + "/copy"); });
    const ChildRun fin = InChild([&] {
      recording::FinalizeOptions options;
      options.recordings_dir = tmp.path() + "/recordings";
      FakeClock clock;
      Result<recording::FinalizeResult> r =
          recording::FinalizeCall(*DefaultFs(), clock, options, {.spool_dir = dir});
      return r.ok() && r->duration_ms >= seconds * 1000;
    });
    if (!fin.ok || !copy.ok) {
      std::printf("%llds: failed (finalize ok=%d, copy ok=%d)\n", static_cast<long long>(seconds),
                  fin.ok, copy.ok);
      return 1;
    }
    char label[32];
    std::snprintf(label, sizeof label, "%lld s", static_cast<long long>(seconds));
    std::printf("%-9s %10.0f | %8.0f audio s/CPU s, %6.1f MiB    | %8.0f audio s/CPU s, %6.1f MiB   | %.1f\n",
                label, spool_mib, static_cast<double>(seconds) / fin.cpu_s, fin.peak_mib,
                static_cast<double>(seconds) / std::max(copy.cpu_s, 1e-3), copy.peak_mib,
                fin.cpu_s / std::max(copy.cpu_s, 1e-3));
    std::fflush(stdout);
  }
  return 0;
}
