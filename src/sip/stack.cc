#include "sip/stack.h"

#include <functional>

#include "base/thread_name.h"
#include "sip/builder.h"
#include "sip/internal/sip_log.h"

namespace callvault::sip {
namespace {

class TransportSender final : public Sender {
 public:
  explicit TransportSender(TransportLayer* t) : t_(t) {}
  Result<Flow> Send(const Flow& flow, std::string data) override {
    return t_->Send(flow, std::move(data));
  }

 private:
  TransportLayer* t_;
};

// The answer to a message that failed to parse (docs/sip-errors.md).
int ErrorAnswerCode(const Status& s) {
  if (s.code() == StatusCode::kResourceExhausted) return 513;
  if (s.code() == StatusCode::kUnimplemented) return 505;  // SIP version not supported
  return 400;
}

}  // namespace

// One shard and the thread that drives it.
class Stack::Worker final : public Executor {
 public:
  Worker(const CoreOptions& options, Sender* sender, Application* app, uint32_t seed)
      : shard_(options, sender, app, this, seed), max_queue_(options.max_queue) {}

  ~Worker() override { Stop(); }

  void Start() {
    thread_ = std::thread([this] {
      SetCurrentThreadName("cv-sip-shard");
      Run();
    });
  }

  void Stop() EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // False when the queue is full (the caller refuses or drops the message).
  // `in` is moved from only on success.
  bool PushMessage(std::unique_ptr<InboundMessage>& in, const Flow& flow) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      if (queue_.size() >= max_queue_) return false;
      queue_.push_back(Task{std::move(in), flow, nullptr});
    }
    cv_.notify_one();
    return true;
  }

  void Post(std::function<void()> fn) override EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      queue_.push_back(Task{nullptr, Flow{}, std::move(fn)});
    }
    cv_.notify_one();
  }

  bool IsCurrent() const override { return std::this_thread::get_id() == thread_.get_id(); }
  TimePoint Now() const override { return Clock::now(); }

  Shard& shard() { return shard_; }
  ShardCounters counters() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return counters_;
  }
  uint64_t dialogs() const { return dialogs_.load(std::memory_order_relaxed); }

 private:
  struct Task {
    std::unique_ptr<InboundMessage> message;
    Flow flow;
    std::function<void()> fn;
  };

  // The worker thread: waits for tasks or the shard's next timer, runs them without mu_ held.
  void Run() EXCLUDES(mu_) {
    std::deque<Task> batch;
    for (;;) {
      std::optional<TimePoint> deadline = shard_.NextDeadline();
      {
        MutexLock lock(&mu_);
        while (!stop_ && queue_.empty()) {
          if (!deadline) {
            mu_.Wait(cv_);
          } else if (mu_.WaitUntil(cv_, *deadline) == std::cv_status::timeout) {
            break;  // a timer is due
          }
        }
        if (stop_) return;
        batch.swap(queue_);
      }
      for (Task& t : batch) {
        if (t.message) {
          shard_.OnMessage(std::move(t.message), t.flow, Clock::now());
        } else if (t.fn) {
          t.fn();
        }
      }
      batch.clear();
      shard_.OnTimers(Clock::now());
      dialogs_.store(shard_.dialog_count(), std::memory_order_relaxed);
      MutexLock lock(&mu_);
      counters_ = shard_.counters();
    }
  }

  Shard shard_;  // worker thread only (after Start())
  const size_t max_queue_;
  mutable Mutex mu_;
  std::condition_variable cv_;  // signalled on push and Stop(); waited on with mu_
  std::deque<Task> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  ShardCounters counters_ GUARDED_BY(mu_);  // a snapshot of the shard's, taken after each batch
  std::atomic<uint64_t> dialogs_{0};        // a snapshot of shard_.dialog_count()
  std::thread thread_;  // set by Start() before any task is queued; joined by Stop()
};

Stack::Stack(StackOptions options, Application* app) : options_(std::move(options)), app_(app) {}

Stack::~Stack() { Stop(); }

Status Stack::Start() {
  if (started_) return FailedPreconditionError("SIP stack already started");
  transport_ = std::make_unique<TransportLayer>(
      options_.transport,
      [this](const Flow& flow, std::string data) { OnInbound(flow, std::move(data)); });
  for (const auto& [kind, addr] : options_.listen) {
    CV_RETURN_IF_ERROR(
        transport_->AddListener(kind, addr)
            .Annotate("listening on " + std::string(TransportName(kind)) + " " + addr.ToString()));
  }
  int n = options_.workers > 0
              ? options_.workers
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  sender_ = std::make_unique<TransportSender>(transport_.get());
  for (int i = 0; i < n; ++i) {
    workers_.push_back(
        std::make_unique<Worker>(options_.core, sender_.get(), app_, std::random_device{}() + i));
  }
  for (auto& w : workers_) w->Start();
  CV_RETURN_IF_ERROR(transport_->Start());
  started_ = true;
  for (const auto& [kind, addr] : transport_->Listeners()) {
    SIP_LOG_INFO("sip.listening", "transport={} addr={}", TransportName(kind), addr.ToString());
  }
  return Status::Ok();
}

void Stack::Stop() {
  if (transport_) transport_->Stop();  // no more inbound work; then the workers
  for (auto& w : workers_) w->Stop();
  workers_.clear();
  transport_.reset();
  started_ = false;
}

std::vector<std::pair<Transport, SocketAddress>> Stack::Listeners() const {
  return transport_ ? transport_->Listeners() : std::vector<std::pair<Transport, SocketAddress>>{};
}

Stack::Worker& Stack::WorkerFor(std::string_view call_id) {
  return *workers_[std::hash<std::string_view>{}(call_id) % workers_.size()];
}

void Stack::OnInbound(const Flow& flow, std::string data) {
  auto in = std::make_unique<InboundMessage>();
  in->data = std::move(data);
  ParseOptions po = options_.transport.framing;
  po.datagram = flow.transport == Transport::kUdp;
  ParseResult r = Parse(in->data, po);
  if (!r.status.ok()) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    const bool answer = r.message.CanBeAnswered();
    SIP_LOG_WARN("sip.malformed", "peer={} transport={} call={} answered={} reason=\"{}\"",
                 flow.remote.ToString(), TransportName(flow.transport), r.message.call_id, answer,
                 r.status.message());
    if (answer) AnswerStateless(flow, r.message, ErrorAnswerCode(r.status), r.status.message());
    return;
  }
  in->message = std::move(r.message);
  Worker& w = WorkerFor(in->message.call_id);
  if (w.PushMessage(in, flow)) return;
  // The shard is saturated: refuse new calls at once (the SRC fails over), drop the rest
  // (their senders retransmit).
  overload_drops_.fetch_add(1, std::memory_order_relaxed);
  const Message& m = in->message;
  if (m.is_request && m.method == Method::kInvite && m.to.tag.empty()) {
    AnswerStateless(flow, m, 503, "overloaded");
  }
}

void Stack::AnswerStateless(const Flow& flow, const Message& m, int code,
                            std::string_view warning) {
  answered_stateless_.fetch_add(1, std::memory_order_relaxed);
  MessageBuilder b = ResponseTo(m, code, {}, "sl" + std::to_string(answered_stateless_.load()));
  b.Header("Server", options_.core.user_agent);
  std::string text(warning);
  for (char& c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '\'';
  }
  std::string host =
      options_.core.public_host.empty() ? flow.local.ToString() : options_.core.public_host;
  b.Header("Warning", "399 " + host + " \"" + text + "\"");
  if (code == 503) b.Header("Retry-After", "5");
  std::string answer = b.Build();
  if (answer.size() > options_.transport.framing.max_header_bytes) {
    // The request's Via/From/To are too large to echo within our own limits: a peer would
    // reject the answer anyway. Logged by the caller as sip.malformed; nothing is sent.
    SIP_LOG_WARN("sip.answer_dropped",
                 "peer={} call={} code={} bytes={} reason=\"answer would "
                 "exceed max_header_bytes\"",
                 flow.remote.ToString(), m.call_id, code, answer.size());
    return;
  }
  Result<Flow> sent = transport_->Send(flow, std::move(answer));
  if (!sent.ok()) {
    SIP_LOG_WARN("sip.send_failed", "peer={} reason=\"{}\"", flow.remote.ToString(),
                 sent.status().message());
  }
}

void Stack::SetAvailability(const Availability& a) {
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->Post([wp, a] { wp->shard().SetAvailability(a); });
  }
}

void Stack::TerminateDialog(const DialogId& id, int cause, std::string text) {
  if (workers_.empty()) return;
  Worker& w = WorkerFor(id.call_id);
  Worker* wp = &w;
  w.Post([wp, id, cause, text = std::move(text)] {
    wp->shard().TerminateDialog(id, cause, text, wp->Now());
  });
}

void Stack::TerminateAll(std::string text) {
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->Post([wp, text] { wp->shard().TerminateAll(text, wp->Now()); });
  }
}

uint64_t Stack::active_dialogs() const {
  uint64_t n = 0;
  for (const auto& w : workers_) n += w->dialogs();
  return n;
}

StackStats Stack::stats() const {
  StackStats s;
  for (const auto& w : workers_) {
    ShardCounters c = w->counters();
    s.requests_in += c.requests_in;
    s.responses_in += c.responses_in;
    s.responses_out += c.responses_out;
    s.retransmissions_absorbed += c.retransmissions_absorbed;
    s.retransmissions_sent += c.retransmissions_sent;
    s.dialogs_created += c.dialogs_created;
    s.dialogs_ended += c.dialogs_ended;
    s.ack_timeouts += c.ack_timeouts;
    s.session_expirations += c.session_expirations;
    s.byes_sent += c.byes_sent;
    s.active_dialogs += w->dialogs();
  }
  s.malformed = malformed_.load();
  s.answered_stateless = answered_stateless_.load();
  s.overload_drops = overload_drops_.load();
  return s;
}

}  // namespace callvault::sip
