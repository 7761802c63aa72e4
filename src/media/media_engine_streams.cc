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
  st.spool_records = s.writer->records();
  st.spool_dropped = s.writer->dropped_records();
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
  }
  int rtp_fd = -1, rtcp_fd = -1;
  std::shared_ptr<SpoolWriter> writer;
  const std::string path =
      config.spool_dir + "/" + config.stream_id + std::string(spool::kStreamFileSuffix);
  auto fail = [&](const Status& s) -> Status {
    if (rtp_fd >= 0) ::close(rtp_fd);
    if (rtcp_fd >= 0) ::close(rtcp_fd);
    if (writer) {
      writer->Close().IgnoreError();    // only the header: nothing to keep
      fs_->Remove(path).IgnoreError();  // so that a retry can create it
    }
    MutexLock lock(&mu_);
    streams_.erase(key);
    CV_LOG_WARN("media.stream_open_failed", "call={} stream={} error=\"{}\"", call_id,
                config.stream_id, s.ToString());
    return s;
  };
  if (Status s = fs_->CreateDirs(config.spool_dir); !s.ok()) return fail(s);
  auto created = SpoolWriter::Create(fs_, path, {options_.spool_max_buffer});
  if (!created.ok()) return fail(created.status());
  writer = *created;
  const std::string& ip = config.ipv6 ? options_.ipv6_address : options_.ipv4_address;
  auto port = ports_.Allocate([&](uint16_t p) -> Status {
    auto a = internal::BindUdp(config.ipv6, ip, p, options_.socket_receive_buffer);
    if (!a.ok()) return a.status();
    auto b = internal::BindUdp(config.ipv6, ip, static_cast<uint16_t>(p + 1),
                               options_.socket_receive_buffer);
    if (!b.ok()) {
      ::close(*a);
      return b.status();
    }
    rtp_fd = *a;
    rtcp_fd = *b;
    return Status::Ok();
  });
  if (!port.ok()) return fail(port.status());

  auto stream = std::make_unique<Stream>(config.clock_rate);
  stream->call_id = call_id;
  stream->stream_id = config.stream_id;
  stream->rtp_port = *port;
  stream->rtp.fd = rtp_fd;
  stream->rtcp.fd = rtcp_fd;
  stream->writer = writer;
  stream->srtp = std::move(srtp);
  IoThread* thread;
  {
    MutexLock lock(&mu_);
    auto call = calls_.find(call_id);
    if (call == calls_.end()) {
      size_t best = 0;
      for (size_t i = 1; i < threads_.size(); ++i) {
        if (threads_[i]->stream_count() < threads_[best]->stream_count()) best = i;
      }
      call = calls_.emplace(call_id, CallEntry{best, {}}).first;
    }
    call->second.stream_ids.push_back(config.stream_id);
    thread = threads_[call->second.thread].get();
    stream->serial = next_serial_++;
  }
  const uint64_t serial = stream->serial;
  Status added;
  thread->Call([&] { added = thread->AddStream(std::move(stream)); });
  rtp_fd = rtcp_fd = -1;  // owned by the stream now (closed with it)
  if (!added.ok()) {
    ports_.Release(*port);
    {
      MutexLock lock(&mu_);
      auto& ids = calls_[call_id].stream_ids;
      ids.erase(std::remove(ids.begin(), ids.end(), config.stream_id), ids.end());
      if (ids.empty()) calls_.erase(call_id);
    }
    return fail(added);
  }
  {
    MutexLock lock(&mu_);
    streams_[key] = Entry{thread, serial, *port, call_id, writer};
  }
  metrics_->streams_opened->Inc();
  metrics_->open_streams->Inc();
  metrics_->free_ports->Set(static_cast<double>(ports_.free_count()));
  CV_LOG_INFO("media.stream_open", "call={} stream={} port={} ipv6={} srtp={} thread={} path={}",
              call_id, config.stream_id, *port, config.ipv6, config.srtp.has_value(),
              thread->index(), path);
  return *port;
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
    if (ids.empty()) calls_.erase(call);
  }
  return e;
}

Result<StreamStats> MediaEngine::CloseStream(const std::string& call_id,
                                             const std::string& stream_id) {
  std::optional<Entry> e;
  {
    MutexLock lock(&mu_);
    e = TakeEntryLocked(call_id, stream_id);
  }
  if (!e) return NotFoundError("closing stream " + stream_id + " of call " + call_id);
  return CloseEntry(*e);
}

std::vector<StreamStats> MediaEngine::CloseCall(const std::string& call_id) {
  std::vector<Entry> entries;
  {
    MutexLock lock(&mu_);
    auto call = calls_.find(call_id);
    if (call != calls_.end()) {
      std::vector<std::string> ids = call->second.stream_ids;
      for (const auto& id : ids) {
        if (auto e = TakeEntryLocked(call_id, id)) entries.push_back(std::move(*e));
      }
    }
  }
  std::vector<StreamStats> out;
  for (const Entry& e : entries) {
    auto r = CloseEntry(e);
    if (r.ok()) out.push_back(std::move(*r));
  }
  return out;
}

Result<StreamStats> MediaEngine::CloseEntry(const Entry& entry) {
  std::unique_ptr<Stream> stream;
  entry.thread->Call([&] { stream = entry.thread->RemoveStream(entry.serial); });
  if (stream == nullptr) {
    return NotFoundError("closing stream of call " + entry.call_id + ": already closed");
  }
  return Finish(std::move(stream));
}

StreamStats MediaEngine::Finish(std::unique_ptr<Stream> s) {
  Status closed = s->writer->Close();  // flush + fdatasync + close, on the caller's thread
  if (!closed.ok()) {
    metrics_->spool_errors->Inc();
    if (s->writer->ClaimErrorLog()) {
      CV_LOG_ERROR("media.spool_error", "call={} stream={} path={} error=\"{}\"", s->call_id,
                   s->stream_id, s->writer->path(), closed.ToString());
    }
  }
  StreamStats st = internal::BuildStats(*s);
  const uint16_t port = s->rtp_port;
  const uint64_t s_spool_counted = s->spool_bytes_counted;
  s.reset();  // closes the sockets before the port goes back to the pool
  ports_.Release(port);
  metrics_->rtp_lost->Add(st.rtp.lost);
  metrics_->spool_bytes->Add(st.spool_bytes - s_spool_counted);
  metrics_->open_streams->Dec();
  metrics_->free_ports->Set(static_cast<double>(ports_.free_count()));
  CV_LOG_INFO("media.stream_close",
              "call={} stream={} port={} packets={} lost={} duplicates={} reordered={} late={} "
              "ssrcs={} rtcp={} srtp_auth_failures={} socket_drops={} spool_bytes={} "
              "spool_dropped={} spool_error=\"{}\"",
              st.call_id, st.stream_id, port, st.rtp.packets, st.rtp.lost, st.rtp.duplicates,
              st.rtp.reordered, st.rtp.late, st.rtp.ssrcs.size(), st.rtp.rtcp_packets,
              st.srtp_auth_failures, st.socket_drops, st.spool_bytes, st.spool_dropped,
              st.spool_error);
  return st;
}

}  // namespace callvault::media
