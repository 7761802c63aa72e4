#include "media/media_engine.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>

#include "base/log.h"
#include "base/thread_name.h"
#include "media/internal/engine_metrics.h"
#include "media/internal/io_thread.h"
#include "media/internal/udp_socket.h"
#include "media/spool_format.h"

namespace callvault::media {
namespace {

using internal::IoThread;
using internal::Stream;

}  // namespace

Status MediaOptions::Validate() const {
  in6_addr a6;
  in_addr a4;
  if (inet_pton(AF_INET, ipv4_address.c_str(), &a4) != 1) {
    return InvalidArgumentError("media.ipv4_address: not an IPv4 address: " + ipv4_address);
  }
  if (!ipv6_address.empty() && inet_pton(AF_INET6, ipv6_address.c_str(), &a6) != 1) {
    return InvalidArgumentError("media.ipv6_address: not an IPv6 address: " + ipv6_address);
  }
  if (port_min == 0 || port_max < port_min + 1 + (port_min & 1)) {
    return InvalidArgumentError("media.port_min/port_max: need at least one even/odd port pair");
  }
  if (io_threads < 0) return InvalidArgumentError("media.io_threads: must be >= 0");
  if (spool_flush.count() <= 0) return InvalidArgumentError("media.spool_flush: must be > 0");
  if (spool_sync.count() <= 0) return InvalidArgumentError("media.spool_sync: must be > 0");
  if (rtp_timeout.count() <= 0) return InvalidArgumentError("media.rtp_timeout: must be > 0");
  if (socket_receive_buffer <= 0) {
    return InvalidArgumentError("media.socket_receive_buffer: must be > 0");
  }
  if (max_streams == 0) return InvalidArgumentError("media.max_streams: must be > 0");
  if (spool_max_buffer < 4096) return InvalidArgumentError("media.spool_max_buffer: < 4096");
  if (spool_memory_budget < 4 * SpoolMemoryBudget::kChunk) {
    return InvalidArgumentError("media.spool_memory_budget: < 64 KiB");
  }
  return Status::Ok();
}

MediaEngine::MediaEngine(MediaOptions options, Fs* fs, Clock* clock, TimeoutFn on_rtp_timeout,
                         Registry* registry)
    : options_(std::move(options)),
      fs_(fs),
      clock_(clock),
      on_timeout_(std::move(on_rtp_timeout)),
      own_registry_(registry == nullptr ? std::make_unique<Registry>() : nullptr),
      metrics_(
          std::make_unique<internal::EngineMetrics>(registry ? registry : own_registry_.get())),
      ports_(options_.port_min, options_.port_max),
      budget_(options_.spool_memory_budget) {}

MediaEngine::~MediaEngine() { Stop(); }

Status MediaEngine::Start() {
  CV_RETURN_IF_ERROR(options_.Validate());
  MutexLock lock(&mu_);
  if (started_) return FailedPreconditionError("starting media engine: already started");
  int n = options_.io_threads > 0 ? options_.io_threads
                                  : static_cast<int>(std::thread::hardware_concurrency());
  n = std::max(n, 1);
  internal::IoThreadOptions io{options_.spool_flush, options_.rtp_timeout};
  for (int i = 0; i < n; ++i) {
    auto t = std::make_unique<IoThread>(i, io, clock_, metrics_.get(),
                                        [this](const std::string& call_id) {
                                          if (on_timeout_) on_timeout_(call_id);
                                        });
    Status s = t->Start();
    if (!s.ok()) {
      threads_.clear();  // stops the started ones
      return s.Annotate("starting media engine");
    }
    threads_.push_back(std::move(t));
  }
  sync_thread_ = std::thread([this] { SyncLoop(); });
  started_ = true;
  metrics_->free_ports->Set(static_cast<double>(ports_.free_count()));
  CV_LOG_INFO("media.started",
              "io_threads={} ports={}-{} port_pairs={} rtcp_sockets={} flush_ms={} sync_ms={} "
              "batch_sync_min={} descriptors_per_2_stream_call={}",
              n, options_.port_min, options_.port_max, ports_.capacity(), options_.rtcp_sockets,
              options_.spool_flush.count(), options_.spool_sync.count(),
              options_.spool_batch_sync_min, DescriptorsPerCall(2));
  return Status::Ok();
}

void MediaEngine::Stop() {
  {
    MutexLock lock(&mu_);
    if (!started_ || stopped_) return;
    stopped_ = sync_stop_ = true;
  }
  sync_cv_.notify_all();
  sync_thread_.join();
  for (auto& t : threads_) t->Stop();
  size_t closed = 0, files = 0;
  for (auto& t : threads_) {
    std::vector<std::unique_ptr<Stream>> streams;
    std::vector<std::pair<std::shared_ptr<CallSpoolWriter>, uint64_t>> writers;
    t->Call([&] {
      streams = t->TakeAll();
      writers = t->TakeCalls();
    });
    for (auto& [w, counted] : writers) {  // the files first: the stats then say "synced"
      CloseWriter(BaseName(DirName(w->path())), w, counted);
      ++files;
    }
    for (auto& s : streams) {
      Finish(std::move(s));
      ++closed;
    }
  }
  std::vector<std::shared_ptr<CallSpoolWriter>> orphans;  // created, no stream added yet
  {
    MutexLock lock(&mu_);
    for (auto& [id, call] : calls_) {
      if (call.writer) orphans.push_back(call.writer);
    }
    streams_.clear();
    calls_.clear();
  }
  for (auto& w : orphans) CloseWriter(BaseName(DirName(w->path())), w, 0);  // closed: skipped
  RetryWaiting(/*final=*/true);  // the disk's last chance: what it refuses now is lost (logged)
  CV_LOG_INFO("media.stopped", "streams_closed={} spool_files_closed={}", closed, files);
}

Status MediaEngine::OnStream(const std::string& call_id, const std::string& stream_id,
                             const std::function<void(IoThread*, Stream*)>& fn) const {
  Entry e;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(Key(call_id, stream_id));
    if (it == streams_.end() || it->second.thread == nullptr) {
      return NotFoundError("stream " + stream_id + " of call " + call_id + " is not open");
    }
    e = it->second;
  }
  bool found = false;
  e.thread->Call([&] {
    if (Stream* s = e.thread->Find(e.serial)) {
      found = true;
      fn(e.thread, s);
    }
  });
  if (!found) return NotFoundError("stream " + stream_id + " of call " + call_id + " closed");
  return Status::Ok();
}

Status MediaEngine::SetPaused(const std::string& call_id, const std::string& stream_id,
                              bool paused) {
  CV_RETURN_IF_ERROR(
      OnStream(call_id, stream_id, [&](IoThread* t, Stream* s) { t->SetPaused(s, paused); }));
  CV_LOG_INFO("media.stream_paused", "call={} stream={} paused={}", call_id, stream_id, paused);
  return Status::Ok();
}

Status MediaEngine::UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                               const std::optional<SrtpParams>& srtp) {
  std::unique_ptr<SrtpSession> session;
  if (srtp) {
    auto created = SrtpSession::Create(*srtp, SrtpSession::Direction::kInbound);
    if (!created.ok()) return created.status().Annotate("rekeying stream " + stream_id);
    session = std::move(*created);
  }
  CV_RETURN_IF_ERROR(
      OnStream(call_id, stream_id, [&](IoThread*, Stream* s) { s->srtp = std::move(session); }));
  CV_LOG_INFO("media.srtp_rekey", "call={} stream={} srtp={}", call_id, stream_id,
              srtp.has_value());
  return Status::Ok();
}

std::optional<StreamStats> MediaEngine::Stats(const std::string& call_id,
                                              const std::string& stream_id) const {
  std::optional<StreamStats> out;
  OnStream(call_id, stream_id, [&](IoThread*, Stream* s) {
    out = internal::BuildStats(*s);
  }).IgnoreError();  // NotFound → nullopt
  return out;
}

size_t MediaEngine::open_streams() const {
  MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [key, e] : streams_) n += e.thread != nullptr;
  return n;
}

void MediaEngine::SyncLoop() {
  SetCurrentThreadName("cv-media-sync");
  std::chrono::steady_clock::time_point next_slow_log{};
  bool batch_failing = false;
  for (;;) {
    std::vector<std::pair<std::string, std::shared_ptr<CallSpoolWriter>>> writers;
    {
      MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + options_.spool_sync;
      while (!sync_stop_) {
        if (mu_.WaitUntil(sync_cv_, deadline) == std::cv_status::timeout) break;
      }
      if (sync_stop_) return;
      writers.reserve(calls_.size());
      for (const auto& [call_id, call] : calls_) {
        if (call.writer) writers.emplace_back(call_id, call.writer);
      }
    }
    const auto round_start = std::chrono::steady_clock::now();
    const size_t synced = SyncRound(writers, &batch_failing);
    RetryWaiting(/*final=*/false);  // ended calls whose records wait for the disk
    metrics_->spool_buffered_bytes->Set(static_cast<double>(budget_.used()));
    // A round longer than spool_sync stretches the power-loss bound: say so (once a minute).
    const auto took = std::chrono::steady_clock::now() - round_start;
    if (took > options_.spool_sync && round_start >= next_slow_log) {
      next_slow_log = round_start + std::chrono::minutes(1);
      CV_LOG_WARN("media.spool_sync_slow", "files={} took_ms={} spool_sync_ms={}", synced,
                  std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
                  options_.spool_sync.count());
    }
  }
}

size_t MediaEngine::SyncRound(
    const std::vector<std::pair<std::string, std::shared_ptr<CallSpoolWriter>>>& writers,
    bool* batch_failing) {
  struct Due {
    const std::string* call_id;
    CallSpoolWriter* writer;
    uint64_t flushed;  // snapshot taken before the syncfs: what it is sure to cover
    std::string root;  // the spool root: parent of the call directory
  };
  std::vector<Due> due;
  for (const auto& [call_id, w] : writers) {
    if (w->NeedsSync()) due.push_back(Due{&call_id, w.get(), 0, {}});
  }
  const size_t min = options_.spool_batch_sync_min;
  if (min == 0 || due.size() < min) {
    for (const Due& d : due) SyncOne(*d.call_id, *d.writer);
    return due.size();
  }
  // Batched: snapshot every size first, so that each syncfs starts after the bytes it is
  // credited with were handed to the kernel.
  std::vector<std::string> roots;
  for (Due& d : due) {
    d.flushed = d.writer->flushed_bytes();
    d.root = DirName(DirName(d.writer->path()));
    if (std::find(roots.begin(), roots.end(), d.root) == roots.end()) roots.push_back(d.root);
  }
  std::vector<std::string> failed;
  for (const std::string& root : roots) {
    Status s = fs_->SyncFilesystem(root);
    if (s.ok()) continue;
    failed.push_back(root);
    metrics_->spool_errors->Inc();
    if (!*batch_failing) {
      CV_LOG_ERROR("media.spool_batch_sync_failed",
                   "root={} files={} error=\"{}\" (syncing each file instead)", root, due.size(),
                   s.ToString());
    }
  }
  if (failed.empty() && *batch_failing) {
    CV_LOG_INFO("media.spool_batch_sync_recovered", "roots={} files={}", roots.size(), due.size());
  }
  *batch_failing = !failed.empty();
  for (const Due& d : due) {
    if (std::find(failed.begin(), failed.end(), d.root) == failed.end()) {
      d.writer->MarkSynced(d.flushed);
    } else {
      SyncOne(*d.call_id, *d.writer);
    }
  }
  return due.size();
}

void MediaEngine::SyncOne(const std::string& call_id, CallSpoolWriter& w) {
  Status s = w.Sync();
  if (!s.ok()) {
    metrics_->spool_errors->Inc();
    if (w.ClaimErrorLog()) {
      CV_LOG_ERROR("media.spool_error", "call={} path={} error=\"{}\"", call_id, w.path(),
                   s.ToString());
    }
  }
}

}  // namespace callvault::media
