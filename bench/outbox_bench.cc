// outbox_bench: the cost of the durable outbox on this disk, beside the least a durable queue can
// cost (WriteFileDurably of the same bytes: temp → fsync → rename → fsync dir).
//
//   outbox_bench [--entries 2000] [--dir /tmp]
//
// Prints µs per WriteFileDurably, per Outbox::Put and per drained entry (a consumer that does
// nothing; removals synced once per batch of 200), and the ratios to WriteFileDurably. Real
// filesystem, real fsyncs: run it on the disk the data directory will use.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "outbox/drainer.h"
#include "outbox/outbox.h"
#include "outbox/testing/outbox_fixture.h"

namespace {

using namespace callvault;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 2000;
  std::string base = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--entries")) n = std::strtoul(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--dir")) base = argv[i + 1];
  }
  std::string tmpl = base + "/cv-outbox-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string root = tmpl;
  Fs* fs = DefaultFs();
  std::vector<std::string> ids;
  const uint64_t t_ms = 1764057600000;
  for (size_t i = 0; i < n; ++i)
    ids.push_back(outbox::testing::CallIdAt(t_ms + i * 50, i));  // 20 calls/s
  const outbox::Entry proto{.call_id = ids[0],
                            .manifest = "2026/11/25/080000_" + ids[0] + ".wav.json",
                            .state = "completed",
                            .finalized = "2026-11-25T08:05:00.840Z"};
  const std::string bytes = outbox::SerializeEntry(proto);

  // Baseline: the same bytes, durably, into one directory.
  if (!fs->CreateDirs(root + "/plain").ok()) return 1;
  auto t0 = std::chrono::steady_clock::now();
  for (const std::string& id : ids) {
    if (!WriteFileDurably(*fs, root + "/plain/" + id + ".json", bytes).ok()) return 1;
  }
  const double plain_us = Seconds(t0) * 1e6 / n;

  outbox::Outbox box(root + "/outbox", fs, nullptr);
  if (!box.OpenQueue("q").ok()) return 1;
  t0 = std::chrono::steady_clock::now();
  for (const std::string& id : ids) {
    outbox::Entry e = proto;
    e.call_id = id;
    if (!box.Put("q", e).ok()) return 1;
  }
  const double put_us = Seconds(t0) * 1e6 / n;

  size_t drained = 0;
  outbox::Drainer d(
      {.queue = "q", .batch = 200}, &box, RealClock(),
      [&](std::vector<outbox::Delivery>& b) {
        for (outbox::Delivery& x : b) x.outcome = outbox::Outcome::kDone;
        drained += b.size();
        return Status::Ok();
      },
      nullptr);
  t0 = std::chrono::steady_clock::now();
  for (size_t round = 0; round <= n; ++round) {
    bool more = false;
    if (!d.RunOnce(&more).ok()) return 1;
    if (!more) break;
  }
  const double drain_us = Seconds(t0) * 1e6 / n;
  fs->RemoveAll(root).IgnoreError();
  std::printf("outbox_bench entries=%zu dir=%s\n", n, base.c_str());
  std::printf("  WriteFileDurably (baseline) %8.1f us/entry\n", plain_us);
  std::printf("  Outbox::Put                 %8.1f us/entry  (x%.2f baseline)\n", put_us,
              put_us / plain_us);
  std::printf("  drained (remove, batch 200) %8.1f us/entry  (x%.2f baseline)  drained=%zu\n",
              drain_us, drain_us / plain_us, drained);
  return drained == n ? 0 : 1;
}
