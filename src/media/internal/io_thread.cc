#include "media/internal/io_thread.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/thread_name.h"
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

void IoThread::Post(const std::function<void()>& fn, bool soon) {
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
      (soon ? soon_ : commands_).push_back([&fn, &done] {
        fn();
        MutexLock l(&done.mu);
        done.done = true;
        done.cv.notify_one();
      });
      if (soon) soon_pending_.store(true, std::memory_order_release);
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

void IoThread::Inject(uint64_t serial, int64_t arrival_ns, std::span<const uint8_t> datagram) {
  bool wake;
  {
    MutexLock lock(&inject_mu_);
    if (datagram.size() > kSlotBytes ||
        injected_bytes_.size() + datagram.size() > kMaxInjectedBytes) {
      inject_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    wake = injected_.empty();
    injected_.push_back({serial, arrival_ns, injected_bytes_.size(), datagram.size()});
    injected_bytes_.insert(injected_bytes_.end(), datagram.begin(), datagram.end());
  }
  if (wake) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }
}

void IoThread::RunInjected() {
  {
    MutexLock lock(&inject_mu_);
    if (injected_.empty()) return;
    injecting_.swap(injected_);
    injecting_bytes_.swap(injected_bytes_);
  }
  for (const Injected& in : injecting_) {
    auto it = streams_.find(in.serial);
    if (it == streams_.end()) {
      inject_dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    Accept(it->second.get(), false, in.arrival_ns, injecting_bytes_.data() + in.offset,
           in.length);
  }
  injecting_.clear();
  injecting_bytes_.clear();
}

void IoThread::RunCommands() {
  RunSoon();
  std::vector<std::function<void()>> commands;
  {
    MutexLock lock(&mu_);
    commands.swap(commands_);
  }
  for (auto& c : commands) c();
}

void IoThread::RunSoon() {
  if (!soon_pending_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> soon;
  {
    MutexLock lock(&mu_);
    soon.swap(soon_);
    soon_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& c : soon) c();
}

void IoThread::Run() {
  thread_id_.store(std::this_thread::get_id());
  SetCurrentThreadName("cv-media-io-" + std::to_string(index_));
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
      RunSoon();  // adds only: the events still to handle stay valid
    }
    RunInjected();
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
    rest.swap(soon_);
    rest.insert(rest.end(), std::make_move_iterator(commands_.begin()),
                std::make_move_iterator(commands_.end()));
    commands_.clear();
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
    s->writer->Append(s->slot, spool::RecordKind::kGap, 0, arrival_ns, std::string_view(count, 4));
  }
  Accept(s, slot->rtcp, arrival_ns, data, len);
}

void IoThread::Accept(Stream* s, bool rtcp_socket, int64_t arrival_ns, char* data, size_t len) {
  std::string_view payload(data, len);
  const bool is_rtcp = rtcp_socket || IsRtcpMux(payload);
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
  s->writer->Append(s->slot, is_rtcp ? spool::RecordKind::kRtcp : spool::RecordKind::kRtp, flags,
                    arrival_ns, payload);
  MarkDirty(s->call);
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

void IoThread::ReportSpoolError(const std::string& call_id, CallSpoolWriter& w,
                                const Status& status) {
  metrics_->spool_errors->Inc();
  if (w.ClaimErrorLog()) {
    CV_LOG_ERROR("media.spool_error",
                 "call={} path={} error=\"{}\" note=\"packets are still received and "
                 "counted; writes are retried; logged once per call\"",
                 call_id, w.path(), status.ToString());
  }
}

void IoThread::FlushDirty() {
  size_t keep = 0;
  for (CallState* c : dirty_) {
    Status st;
    CallSpoolWriter& w = *c->writer;
    if (w.TryFlush(&st)) {
      if (!st.ok()) ReportSpoolError(c->call_id, w, st);
      const uint64_t flushed = w.flushed_bytes();
      metrics_->spool_bytes->Add(flushed - c->spool_bytes_counted);
      c->spool_bytes_counted = flushed;
      if (w.buffered_bytes() == 0) {
        c->dirty = false;
        continue;
      }
    }
    dirty_[keep++] = c;  // a sync holds the file, or the disk failed: retried next tick
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

Status IoThread::AddStream(std::unique_ptr<Stream> stream,
                           std::shared_ptr<CallSpoolWriter> writer) {
  Stream* s = stream.get();
  s->rtp.stream = s->rtcp.stream = s;
  s->rtcp.rtcp = true;
  auto it = calls_.find(s->call_id);
  CallSpoolWriter* w = it != calls_.end() ? it->second.writer.get() : writer.get();
  if (w == nullptr || (it != calls_.end() && writer != nullptr && writer.get() != w)) {
    return InternalError("adding stream " + s->stream_id + " of call " + s->call_id +
                         ": not the call's spool file");
  }
  std::vector<int> registered;
  for (SocketSlot* slot : {&s->rtp, &s->rtcp}) {
    if (slot->fd < 0) continue;  // no RTCP socket
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = slot;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, slot->fd, &ev) != 0) {
      Status st = IoError("registering RTP socket with epoll", errno);
      for (int fd : registered) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      return st;
    }
    registered.push_back(slot->fd);
  }
  const int64_t opened_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_->WallNow().time_since_epoch())
          .count();
  Result<uint16_t> slot = w->AddSlot(s->stream_id, opened_ns);
  if (!slot.ok()) {
    for (int fd : registered) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    return slot.status();
  }
  s->slot = *slot;
  s->last_rtp = clock_->Now();
  CallState& call = calls_[s->call_id];
  if (call.writer == nullptr) {
    call.call_id = s->call_id;
    call.writer = std::move(writer);
  }
  s->writer = call.writer;
  s->call = &call;
  call.streams.push_back(s);
  MarkDirty(&call);  // the declaration is written at the next tick
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
    for (SocketSlot* slot : {&s->rtp, &s->rtcp}) {
      if (slot->fd < 0) continue;
      Receive(slot, 64);  // what already arrived belongs to the recording
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, slot->fd, nullptr);
    }
  }
  if (s->call != nullptr) {  // the call and its writer stay (RemoveCall)
    auto& v = s->call->streams;
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
    s->call = nullptr;
  }
  PublishCounters();
  stream_count_.fetch_sub(1, std::memory_order_relaxed);
  return stream;
}

std::shared_ptr<CallSpoolWriter> IoThread::RemoveCall(const std::string& call_id,
                                                      uint64_t* counted) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return nullptr;
  CallState& c = it->second;
  CV_CHECK_MSG(c.streams.empty(), "RemoveCall with streams left");
  if (c.dirty) dirty_.erase(std::find(dirty_.begin(), dirty_.end(), &c));
  *counted = c.spool_bytes_counted;
  std::shared_ptr<CallSpoolWriter> w = std::move(c.writer);
  calls_.erase(it);
  return w;
}

std::vector<std::pair<std::shared_ptr<CallSpoolWriter>, uint64_t>> IoThread::TakeCalls() {
  std::vector<std::string> ids;
  for (const auto& [id, c] : calls_) ids.push_back(id);
  std::vector<std::pair<std::shared_ptr<CallSpoolWriter>, uint64_t>> out;
  for (const std::string& id : ids) {
    uint64_t counted = 0;
    if (auto w = RemoveCall(id, &counted)) out.emplace_back(std::move(w), counted);
  }
  return out;
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
