#include "media/internal/io_thread.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "media/spool_format.h"

namespace callvault::media::internal {

Stream::~Stream() {
  if (rtp.fd >= 0) ::close(rtp.fd);
  if (rtcp.fd >= 0) ::close(rtcp.fd);
}

IoThread::IoThread(int index, IoThreadOptions options, const Clock* clock, EngineMetrics* metrics,
                   std::function<void(const std::string&)> on_timeout)
    : index_(index),
      options_(options),
      clock_(clock),
      metrics_(metrics),
      on_timeout_(std::move(on_timeout)) {}

IoThread::~IoThread() {
  Stop();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status IoThread::Start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return IoError("media I/O thread: epoll_create1", errno);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return IoError("media I/O thread: eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return IoError("media I/O thread: epoll_ctl(eventfd)", errno);
  }
  buffers_.reset(new char[kBatch * kSlotBytes]);
  scratch_.reset(new char[kSlotBytes + 64]);
  std::memset(msgs_, 0, sizeof(msgs_));
  for (int i = 0; i < kBatch; ++i) {
    iovs_[i].iov_base = buffers_.get() + static_cast<size_t>(i) * kSlotBytes;
    iovs_[i].iov_len = kSlotBytes;
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_control = control_[i];
    msgs_[i].msg_hdr.msg_controllen = sizeof(control_[i]);
  }
  {
    MutexLock lock(&mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void IoThread::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  thread_id_.store(std::thread::id());
}

void IoThread::Call(const std::function<void()>& fn) {
  if (std::this_thread::get_id() == thread_id_.load()) {
    fn();
    return;
  }
  struct Done {
    Mutex mu;
    std::condition_variable cv;
    bool done GUARDED_BY(mu) = false;
  } done;
  bool queued = false;
  {
    MutexLock lock(&mu_);
    if (running_) {
      commands_.push_back([&fn, &done] {
        fn();
        MutexLock l(&done.mu);
        done.done = true;
        done.cv.notify_one();
      });
      queued = true;
    }
  }
  if (!queued) {
    MutexLock lock(&inline_mu_);
    fn();
    return;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  MutexLock lock(&done.mu);
  while (!done.done) done.mu.Wait(done.cv);
}

void IoThread::RunCommands() {
  std::vector<std::function<void()>> commands;
  {
    MutexLock lock(&mu_);
    commands.swap(commands_);
  }
  for (auto& c : commands) c();
}

void IoThread::Run() {
  thread_id_.store(std::this_thread::get_id());
  const std::string name = "cv-media-io-" + std::to_string(index_);  // shown by top -H
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  epoll_event events[256];
  const auto flush = options_.spool_flush;
  next_tick_ = clock_->Now() + flush;
  while (!stop_.load(std::memory_order_relaxed)) {
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_tick_ - clock_->Now());
    int timeout_ms =
        static_cast<int>(std::clamp(wait, std::chrono::milliseconds(0), flush).count());
    int n = ::epoll_wait(epoll_fd_, events, 256, timeout_ms);
    now_ = clock_->Now();
    for (int i = 0; i < n; ++i) {
      auto* slot = static_cast<SocketSlot*>(events[i].data.ptr);
      if (slot == nullptr) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof(v));
        continue;
      }
      Receive(slot, 4);
    }
    PublishCounters();  // a few relaxed atomics per wakeup: metrics are always current
    RunCommands();
    if (now_ >= next_tick_) {
      Tick(now_);
      next_tick_ = now_ + flush;
    }
  }
  FlushDirty();
  PublishCounters();
  MutexLock inline_lock(&inline_mu_);
  std::vector<std::function<void()>> rest;
  {
    MutexLock lock(&mu_);
    running_ = false;
    rest.swap(commands_);
  }
  for (auto& c : rest) c();
}

int IoThread::Receive(SocketSlot* slot, int max_rounds) {
  int total = 0;
  for (int round = 0; round < max_rounds; ++round) {
    int n = ::recvmmsg(slot->fd, msgs_, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;  // EAGAIN; other errors (ICMP-reported) are not ours to act on
    for (int i = 0; i < n; ++i) HandleDatagram(slot, i);
    for (int i = 0; i < n; ++i) {  // the kernel shrank them; the rest are untouched
      msgs_[i].msg_hdr.msg_controllen = sizeof(control_[i]);
      msgs_[i].msg_hdr.msg_flags = 0;
    }
    total += n;
    if (n < kBatch) break;
  }
  return total;
}

void IoThread::HandleDatagram(SocketSlot* slot, int i) {
  Stream* s = slot->stream;
  mmsghdr& m = msgs_[i];
  char* data = buffers_.get() + static_cast<size_t>(i) * kSlotBytes;
  const size_t len = m.msg_len;
  if (m.msg_hdr.msg_flags & MSG_TRUNC) ++s->truncated;
  int64_t arrival_ns = 0;
  bool have_drops = false;
  uint32_t drops = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c != nullptr; c = CMSG_NXTHDR(&m.msg_hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      arrival_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    } else if (c->cmsg_type == SO_RXQ_OVFL) {
      std::memcpy(&drops, CMSG_DATA(c), sizeof(drops));
      have_drops = true;
    }
  }
  if (arrival_ns == 0) {
    arrival_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->WallNow().time_since_epoch())
            .count();
  }
  if (have_drops && drops != slot->drops_seen) {
    const uint32_t lost = drops - slot->drops_seen;
    slot->drops_seen = drops;
    if (s->socket_drops == 0) {
      CV_LOG_WARN("media.socket_drops", "call={} stream={} port={} dropped={} rtcp={}", s->call_id,
                  s->stream_id, s->rtp_port, lost, slot->rtcp);
    }
    s->socket_drops += lost;
    pending_drops_ += lost;
    char count[4];
    for (int k = 0; k < 4; ++k) count[k] = static_cast<char>(lost >> (8 * k));
    s->writer->Append(spool::RecordKind::kGap, 0, arrival_ns, std::string_view(count, 4));
  }
  std::string_view payload(data, len);
  const bool is_rtcp = slot->rtcp || IsRtcpMux(payload);
  uint8_t flags = 0;
  if (s->srtp != nullptr) {
    std::memcpy(scratch_.get(), data, len);
    int plain_len = static_cast<int>(len);
    auto outcome = is_rtcp ? s->srtp->UnprotectRtcp(scratch_.get(), &plain_len)
                           : s->srtp->UnprotectRtp(scratch_.get(), &plain_len);
    switch (outcome) {
      case SrtpSession::Outcome::kOk:
        payload = std::string_view(scratch_.get(), static_cast<size_t>(plain_len));
        flags = spool::kFlagSrtpDecrypted;
        ++s->srtp_decrypted;
        break;
      case SrtpSession::Outcome::kAuthFailed:
        flags = spool::kFlagSrtpAuthFailed;
        ++s->srtp_auth_failures;
        ++pending_auth_failures_;
        break;
      case SrtpSession::Outcome::kReplay:
        flags = spool::kFlagSrtpAuthFailed;
        ++s->srtp_replays;
        break;
      case SrtpSession::Outcome::kError:
        flags = spool::kFlagSrtpAuthFailed;
        ++s->srtp_errors;
        break;
    }
  }
  if (is_rtcp) {
    s->stats.OnRtcp(payload);
  } else {
    s->stats.OnRtp(payload, arrival_ns);
    s->last_rtp = now_;
  }
  s->writer->Append(is_rtcp ? spool::RecordKind::kRtcp : spool::RecordKind::kRtp, flags, arrival_ns,
                    payload);
  MarkDirty(s);
  ++pending_packets_;
  pending_bytes_ += len;
}

void IoThread::Tick(std::chrono::steady_clock::time_point now) {
  FlushDirty();
  PublishCounters();
  std::vector<std::string> fired;
  for (auto& [call_id, call] : calls_) {
    if (call.fired) continue;
    bool active = false, silent = true;
    for (const Stream* s : call.streams) {
      if (s->paused) continue;
      active = true;
      if (now - s->last_rtp < options_.rtp_timeout) {
        silent = false;
        break;
      }
    }
    if (active && silent) {
      call.fired = true;
      fired.push_back(call_id);
    }
  }
  for (const std::string& call_id : fired) {
    metrics_->rtp_timeouts->Inc();
    CV_LOG_INFO("media.rtp_timeout", "call={} silent_for_s={}", call_id,
                std::chrono::duration_cast<std::chrono::seconds>(options_.rtp_timeout).count());
    if (on_timeout_) on_timeout_(call_id);
  }
}

void IoThread::ReportSpoolError(Stream* s, const Status& status) {
  metrics_->spool_errors->Inc();
  if (s->writer->ClaimErrorLog()) {
    CV_LOG_ERROR("media.spool_error",
                 "call={} stream={} path={} error=\"{}\" note=\"packets are still received and "
                 "counted; writes are retried; logged once per stream\"",
                 s->call_id, s->stream_id, s->writer->path(), status.ToString());
  }
}

void IoThread::FlushDirty() {
  size_t keep = 0;
  for (Stream* s : dirty_) {
    Status st;
    if (s->writer->TryFlush(&st)) {
      if (!st.ok()) ReportSpoolError(s, st);
      const uint64_t flushed = s->writer->flushed_bytes();
      metrics_->spool_bytes->Add(flushed - s->spool_bytes_counted);
      s->spool_bytes_counted = flushed;
      if (s->writer->buffered_bytes() == 0) {
        s->dirty = false;
        continue;
      }
    }
    dirty_[keep++] = s;  // a sync holds the file, or the disk failed: retried next tick
  }
  dirty_.resize(keep);
}

void IoThread::PublishCounters() {
  if (pending_packets_ > 0) metrics_->rtp_packets->Add(pending_packets_);
  if (pending_bytes_ > 0) metrics_->rtp_bytes->Add(pending_bytes_);
  if (pending_auth_failures_ > 0) metrics_->srtp_auth_failures->Add(pending_auth_failures_);
  if (pending_drops_ > 0) metrics_->socket_drops->Add(pending_drops_);
  pending_packets_ = pending_bytes_ = pending_auth_failures_ = pending_drops_ = 0;
}

Status IoThread::AddStream(std::unique_ptr<Stream> stream) {
  Stream* s = stream.get();
  s->rtp.stream = s->rtcp.stream = s;
  s->rtcp.rtcp = true;
  for (SocketSlot* slot : {&s->rtp, &s->rtcp}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = slot;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, slot->fd, &ev) != 0) {
      Status st = IoError("registering RTP socket with epoll", errno);
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s->rtp.fd, nullptr);
      return st;
    }
  }
  s->last_rtp = clock_->Now();
  calls_[s->call_id].streams.push_back(s);
  streams_[s->serial] = std::move(stream);
  stream_count_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Stream* IoThread::Find(uint64_t serial) {
  auto it = streams_.find(serial);
  return it == streams_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Stream> IoThread::RemoveStream(uint64_t serial) {
  auto it = streams_.find(serial);
  if (it == streams_.end()) return nullptr;
  std::unique_ptr<Stream> stream = std::move(it->second);
  streams_.erase(it);
  Stream* s = stream.get();
  if (epoll_fd_ >= 0) {
    now_ = clock_->Now();
    Receive(&s->rtp, 64);  // what already arrived belongs to the recording
    Receive(&s->rtcp, 64);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s->rtp.fd, nullptr);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s->rtcp.fd, nullptr);
  }
  if (s->dirty) {
    dirty_.erase(std::find(dirty_.begin(), dirty_.end(), s));
    s->dirty = false;
  }
  auto call = calls_.find(s->call_id);
  if (call != calls_.end()) {
    auto& v = call->second.streams;
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
    if (v.empty()) calls_.erase(call);
  }
  PublishCounters();
  stream_count_.fetch_sub(1, std::memory_order_relaxed);
  return stream;
}

std::vector<std::unique_ptr<Stream>> IoThread::TakeAll() {
  std::vector<uint64_t> serials;
  for (auto& [serial, s] : streams_) serials.push_back(serial);
  std::vector<std::unique_ptr<Stream>> out;
  for (uint64_t serial : serials) out.push_back(RemoveStream(serial));
  return out;
}

void IoThread::SetPaused(Stream* s, bool paused) {
  if (s->paused && !paused) s->last_rtp = clock_->Now();
  s->paused = paused;
}

}  // namespace callvault::media::internal
