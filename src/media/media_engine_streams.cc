// MediaEngine: opening and closing streams (the rest is in media_engine.cc).
#include <unistd.h>

#include <algorithm>

#include "base/log.h"
#include "media/internal/engine_metrics.h"
#include "media/internal/io_thread.h"
#include "media/internal/udp_socket.h"
#include "media/media_engine.h"
#include "media/spool_format.h"

namespace callvault::media {
namespace internal {

StreamStats BuildStats(const Stream& s) {
  StreamStats st;
  st.call_id = s.call_id;
  st.stream_id = s.stream_id;
  st.rtp_port = s.rtp_port;
  st.paused = s.paused;
  st.srtp = s.srtp != nullptr;
  st.rtp = s.stats.Snapshot();
  st.srtp_decrypted = s.srtp_decrypted;
  st.srtp_auth_failures = s.srtp_auth_failures;
  st.srtp_replays = s.srtp_replays;
  st.srtp_errors = s.srtp_errors;
  st.socket_drops = s.socket_drops;
  st.truncated = s.truncated;
  st.spool_records = s.writer->slot_records(s.slot);
  st.spool_dropped = s.writer->slot_dropped(s.slot);
  st.spool_bytes = s.writer->flushed_bytes();
  st.spool_synced_bytes = s.writer->synced_bytes();
  st.spool_write_errors = s.writer->write_errors();
  if (Status e = s.writer->first_error(); !e.ok()) st.spool_error = e.ToString();
  return st;
}

}  // namespace internal

namespace {

using internal::IoThread;
using internal::Stream;

bool ValidStreamId(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

}  // namespace

Result<uint16_t> MediaEngine::OpenStream(const StreamConfig& config) {
  const std::string& call_id = config.call_id;
  if (call_id.empty() || call_id.find_first_of("\n/") != std::string::npos) {
    return InvalidArgumentError("opening stream: bad call id \"" + call_id + "\"");
  }
  if (!ValidStreamId(config.stream_id)) {
    return InvalidArgumentError("opening stream: bad stream id \"" + config.stream_id + "\"");
  }
  if (config.spool_dir.empty()) return InvalidArgumentError("opening stream: empty spool_dir");
  if (config.ipv6 && options_.ipv6_address.empty()) {
    return FailedPreconditionError("opening stream: IPv6 media is disabled (empty ipv6_address)");
  }
  std::unique_ptr<SrtpSession> srtp;
  if (config.srtp) {
    CV_ASSIGN_OR_RETURN(srtp, SrtpSession::Create(*config.srtp, SrtpSession::Direction::kInbound));
  }
  const std::string key = Key(call_id, config.stream_id);
  std::shared_ptr<CallSpoolWriter> writer;  // the call's, when it has one already
  {
    MutexLock lock(&mu_);
    if (!started_ || stopped_) return FailedPreconditionError("opening stream: engine not running");
    if (streams_.count(key)) {
      return AlreadyExistsError("opening stream " + config.stream_id + " of call " + call_id +
                                ": already open");
    }
    if (streams_.size() >= options_.max_streams) {
      return ResourceExhaustedError("opening stream: max_streams (" +
                                    std::to_string(options_.max_streams) + ") reached");
    }
    streams_[key] = Entry{};  // placeholder: reserves the key and a max_streams slot
    if (auto call = calls_.find(call_id); call != calls_.end()) {
      call->second.stream_ids.push_back(config.stream_id);
      writer = call->second.writer;
    }
  }
  const bool new_call = writer == nullptr;
  const std::string path = config.spool_dir + "/" + std::string(spool::kCallSpoolName);
  int rtp_fd = -1, rtcp_fd = -1;
  auto fail = [&](const Status& s) -> Status {
    for (int fd : {rtp_fd, rtcp_fd}) {
      if (fd < 0) continue;
      ::close(fd);
      descriptors_.fetch_sub(1);
    }
    bool drop_file = false;
    {
      MutexLock lock(&mu_);
      streams_.erase(key);
      auto call = calls_.find(call_id);
      if (call != calls_.end()) {
        auto& ids = call->second.stream_ids;
        ids.erase(std::remove(ids.begin(), ids.end(), config.stream_id), ids.end());
        // The file this call created: nothing of the call reached an I/O thread.
        if (ids.empty() && new_call) {
          calls_.erase(call);
          drop_file = true;
        }
      }
    }
    if (drop_file) {
      writer->Close().IgnoreError();  // only the header: nothing to keep
      descriptors_.fetch_sub(1);
      fs_->Remove(path).IgnoreError();  // so that a retry can create it
    }
    CV_LOG_WARN("media.stream_open_failed", "call={} stream={} error=\"{}\"", call_id,
                config.stream_id, s.ToString());
    return s;
  };
  if (new_call) {
    if (Status s = fs_->CreateDirs(config.spool_dir); !s.ok()) return fail(s);
    CallSpoolWriterOptions wo{
        .max_buffer_bytes = options_.spool_max_buffer,
        .budget = &budget_,
        .counters = {metrics_->unwritten_disk_full, metrics_->unwritten_write_error,
                     metrics_->unwritten_buffer_full}};
    auto created = CallSpoolWriter::Create(fs_, path, wo);
    if (!created.ok()) return fail(created.status());
    writer = *created;
    descriptors_.fetch_add(1);
    MutexLock lock(&mu_);
    size_t best = 0;
    for (size_t i = 1; i < threads_.size(); ++i) {
      if (threads_[i]->stream_count() < threads_[best]->stream_count()) best = i;
    }
    calls_.emplace(call_id, CallEntry{best, {config.stream_id}, writer});
  }
  const std::string& ip = config.ipv6 ? options_.ipv6_address : options_.ipv4_address;
  // A passive stream has no port or socket: its datagrams are injected (passive recording).
  Result<uint16_t> port = uint16_t{0};
  if (!config.passive) port = ports_.Allocate([&](uint16_t p) -> Status {
    auto a = internal::BindUdp(config.ipv6, ip, p, options_.socket_receive_buffer);
    if (!a.ok()) return a.status();
    if (options_.rtcp_sockets) {
      auto b = internal::BindUdp(config.ipv6, ip, static_cast<uint16_t>(p + 1),
                                 options_.socket_receive_buffer);
      if (!b.ok()) {
        ::close(*a);
        return b.status();
      }
      rtcp_fd = *b;
      descriptors_.fetch_add(1);
    }
    rtp_fd = *a;
    descriptors_.fetch_add(1);
    return Status::Ok();
  });
  if (!port.ok()) return fail(port.status());

  auto stream = std::make_unique<Stream>(config.clock_rate);
  stream->call_id = call_id;
  stream->stream_id = config.stream_id;
  stream->rtp_port = *port;
  stream->rtp.fd = rtp_fd;
  stream->rtcp.fd = rtcp_fd;
  stream->srtp = std::move(srtp);
  IoThread* thread;
  {
    MutexLock lock(&mu_);
    thread = threads_[calls_.at(call_id).thread].get();
    stream->serial = next_serial_++;
  }
  const uint64_t serial = stream->serial;
  Status added;
  // Between two sockets of the thread's wakeup, not after all of them: under heavy RTP a setup
  // burst would otherwise wait a whole wakeup per stream (issue 18).
  thread->CallSoon(
      [&] { added = thread->AddStream(std::move(stream), new_call ? writer : nullptr); });
  if (!added.ok()) {
    if (!config.passive) {
      ports_.Release(*port);  // the stream (and its sockets) were destroyed by AddStream's caller
      descriptors_.fetch_sub(options_.rtcp_sockets ? 2 : 1);
    }
    rtp_fd = rtcp_fd = -1;
    return fail(added);
  }
  rtp_fd = rtcp_fd = -1;  // owned by the stream now (closed with it)
  {
    MutexLock lock(&mu_);
    streams_[key] = Entry{thread, serial, *port, call_id};
  }
  metrics_->streams_opened->Inc();
  metrics_->open_streams->Inc();
  metrics_->free_ports->Set(static_cast<double>(ports_.free_count()));
  CV_LOG_INFO("media.stream_open",
              "call={} stream={} port={} rtcp_socket={} ipv6={} srtp={} thread={} passive={} "
              "path={}",
              call_id, config.stream_id, *port, options_.rtcp_sockets && !config.passive,
              config.ipv6, config.srtp.has_value(), thread->index(), config.passive, path);
  return *port;
}

Result<InjectTarget> MediaEngine::PassiveTarget(const std::string& call_id,
                                                const std::string& stream_id) const {
  MutexLock lock(&mu_);
  auto it = streams_.find(Key(call_id, stream_id));
  if (it == streams_.end() || it->second.thread == nullptr || it->second.port != 0)
    return NotFoundError("no passive stream " + stream_id + " of call " + call_id);
  return InjectTarget{it->second.thread, it->second.serial};
}

void MediaEngine::Inject(const InjectTarget& target, int64_t arrival_ns,
                         std::span<const uint8_t> datagram) {
  if (target.thread != nullptr) target.thread->Inject(target.serial, arrival_ns, datagram);
}

uint64_t MediaEngine::inject_dropped() const {
  MutexLock lock(&mu_);
  uint64_t n = 0;
  for (const auto& t : threads_) n += t->inject_dropped();
  return n;
}

std::optional<MediaEngine::Entry> MediaEngine::TakeEntryLocked(const std::string& call_id,
                                                               const std::string& stream_id) {
  auto it = streams_.find(Key(call_id, stream_id));
  if (it == streams_.end() || it->second.thread == nullptr) return std::nullopt;
  Entry e = std::move(it->second);
  streams_.erase(it);
  auto call = calls_.find(call_id);
  if (call != calls_.end()) {
    auto& ids = call->second.stream_ids;
    ids.erase(std::remove(ids.begin(), ids.end(), stream_id), ids.end());
  }
  return e;
}

Result<StreamStats> MediaEngine::CloseStream(const std::string& call_id,
                                             const std::string& stream_id) {
  std::optional<Entry> e;
  std::optional<CallEntry> call;  // set when this was the call's last stream
  {
    MutexLock lock(&mu_);
    e = TakeEntryLocked(call_id, stream_id);
    if (auto it = calls_.find(call_id); e && it != calls_.end() && it->second.stream_ids.empty()) {
      call = std::move(it->second);
      calls_.erase(it);
    }
  }
  if (!e) return NotFoundError("closing stream " + stream_id + " of call " + call_id);
  std::vector<StreamStats> out = CloseEntries(call_id, {*e}, call);
  if (out.empty()) {
    return NotFoundError("closing stream " + stream_id + " of call " + call_id +
                         ": already closed");
  }
  return std::move(out[0]);
}

std::vector<StreamStats> MediaEngine::CloseCall(const std::string& call_id) {
  std::vector<Entry> entries;
  std::optional<CallEntry> call;
  {
    MutexLock lock(&mu_);
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return {};
    std::vector<std::string> ids = it->second.stream_ids;
    for (const auto& id : ids) {
      if (auto e = TakeEntryLocked(call_id, id)) entries.push_back(std::move(*e));
    }
    call = std::move(it->second);
    calls_.erase(it);
  }
  return CloseEntries(call_id, entries, call);
}

std::vector<StreamStats> MediaEngine::CloseEntries(const std::string& call_id,
                                                   const std::vector<Entry>& entries,
                                                   const std::optional<CallEntry>& call) {
  std::vector<std::unique_ptr<Stream>> streams;
  std::shared_ptr<CallSpoolWriter> writer;
  uint64_t counted = 0;
  IoThread* thread =
      call ? threads_[call->thread].get() : (entries.empty() ? nullptr : entries[0].thread);
  if (thread != nullptr) {
    thread->Call([&] {  // one hop: the streams, then the call's file
      for (const Entry& e : entries) {
        if (auto s = thread->RemoveStream(e.serial)) streams.push_back(std::move(s));
      }
      if (call) writer = thread->RemoveCall(call_id, &counted);
    });
  }
  if (call && writer == nullptr) writer = call->writer;  // created, never handed to the thread
  // Flush + fdatasync + close, on the caller's thread (kept for the sync thread on a full disk).
  if (writer) CloseWriter(call_id, writer, counted);
  std::vector<StreamStats> out;
  for (auto& s : streams) out.push_back(Finish(std::move(s)));
  return out;
}

void MediaEngine::CloseWriter(const std::string& call_id, const std::shared_ptr<CallSpoolWriter>& w,
                              uint64_t counted, bool final) {
  Status closed = w->Close();
  if (closed.code() == StatusCode::kFailedPrecondition) return;  // closed already (Stop)
  if (!closed.ok()) {
    metrics_->spool_errors->Inc();
    if (w->ClaimErrorLog()) {
      CV_LOG_ERROR("media.spool_error", "call={} path={} error=\"{}\"", call_id, w->path(),
                   closed.ToString());
    }
  }
  if (!w->closed()) {  // the disk refused: keep the records until it takes them
    if (final) {
      const uint64_t lost = w->Abandon();
      CV_LOG_ERROR("media.spool_abandoned",
                   "call={} records_lost={} error=\"{}\" reason=\"stopping with the disk still "
                   "refusing the call's buffered records\"",
                   call_id, lost, closed.ToString());
    } else {
      CV_LOG_WARN("media.spool_waiting_for_disk",
                  "call={} buffered_bytes={} error=\"{}\" note=\"the call's records are kept in "
                  "memory and written when the disk takes them; its finalization waits\"",
                  call_id, w->buffered_bytes(), closed.ToString());
      MutexLock lock(&mu_);
      waiting_[call_id] = Waiting{w, counted, std::chrono::steady_clock::now()};
      metrics_->spool_waiting_calls->Set(static_cast<double>(waiting_.size()));
      return;
    }
  }
  descriptors_.fetch_sub(1);
  metrics_->spool_bytes->Add(w->flushed_bytes() - std::min(counted, w->flushed_bytes()));
}

void MediaEngine::RetryWaiting(bool final) {
  std::vector<std::pair<std::string, Waiting>> waiting;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, w] : waiting_) waiting.emplace_back(id, w);
  }
  for (auto& [call_id, w] : waiting) {
    Status s = w.writer->Close();
    if (!w.writer->closed() && !final) continue;  // still refused: next round
    if (!w.writer->closed()) {
      const uint64_t lost = w.writer->Abandon();
      CV_LOG_ERROR("media.spool_abandoned",
                   "call={} records_lost={} error=\"{}\" reason=\"stopping with the disk still "
                   "refusing the call's buffered records\"",
                   call_id, lost, s.ToString());
    } else {
      CV_LOG_INFO("media.spool_written_after_wait", "call={} waited_ms={} bytes={}", call_id,
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - w.since)
                      .count(),
                  w.writer->flushed_bytes());
    }
    descriptors_.fetch_sub(1);
    metrics_->spool_bytes->Add(w.writer->flushed_bytes() -
                               std::min(w.counted, w.writer->flushed_bytes()));
    MutexLock lock(&mu_);
    waiting_.erase(call_id);
    metrics_->spool_waiting_calls->Set(static_cast<double>(waiting_.size()));
  }
}

bool MediaEngine::SpoolPending(const std::string& call_id) const {
  MutexLock lock(&mu_);
  return waiting_.count(call_id) > 0;
}

size_t MediaEngine::spool_waiting_calls() const {
  MutexLock lock(&mu_);
  return waiting_.size();
}

uint64_t MediaEngine::spool_demand_bytes() const {
  return metrics_->rtp_bytes->value() + metrics_->rtp_packets->value() * spool::kRecordHeaderSizeV2;
}

StreamStats MediaEngine::Finish(std::unique_ptr<Stream> s) {
  StreamStats st = internal::BuildStats(*s);
  const uint16_t port = s->rtp_port;  // 0: a passive stream (no port, no socket)
  descriptors_.fetch_sub((s->rtp.fd >= 0 ? 1 : 0) + (s->rtcp.fd >= 0 ? 1 : 0));
  s.reset();  // closes the sockets before the port goes back to the pool
  if (port != 0) ports_.Release(port);
  metrics_->rtp_lost->Add(st.rtp.lost);
  metrics_->open_streams->Dec();
  metrics_->free_ports->Set(static_cast<double>(ports_.free_count()));
  CV_LOG_INFO("media.stream_close",
              "call={} stream={} port={} packets={} lost={} duplicates={} reordered={} late={} "
              "ssrcs={} rtcp={} srtp_auth_failures={} socket_drops={} spool_records={} "
              "spool_bytes={} spool_dropped={} spool_error=\"{}\"",
              st.call_id, st.stream_id, port, st.rtp.packets, st.rtp.lost, st.rtp.duplicates,
              st.rtp.reordered, st.rtp.late, st.rtp.ssrcs.size(), st.rtp.rtcp_packets,
              st.srtp_auth_failures, st.socket_drops, st.spool_records, st.spool_bytes,
              st.spool_dropped, st.spool_error);
  return st;
}

}  // namespace callvault::media
