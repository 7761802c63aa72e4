#include "replication/sender.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "base/log.h"
#include "recording/manifest_reader.h"
#include "replication/protocol.h"

namespace callvault::replication {
namespace {

// Transfer threads yield to recording: nice +10 for this thread (Linux: per thread).
void LowerPriorityOnce() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10) != 0)
    CV_LOG_DEBUG("replication.nice_failed", "error=\"{}\"", std::strerror(errno));
}

std::string_view ErrorKind(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
      return "unreachable";
    case StatusCode::kDeadlineExceeded:
      return "stalled";
    case StatusCode::kPermissionDenied:
      return "refused";
    case StatusCode::kResourceExhausted:
      return "peer_full";
    case StatusCode::kDataLoss:
      return "mismatch";
    case StatusCode::kInvalidArgument:
      return "bad_request";
    case StatusCode::kFailedPrecondition:
      return "conflict";
    default:
      return "local";
  }
}

}  // namespace

Sender::Sender(SenderOptions options, PeerClientOptions peer, outbox::Outbox* outbox, Fs* fs,
               const Clock* clock, const CallIndex* tombstones, Registry* metrics)
    : options_(std::move(options)),
      peer_id_(peer.peer_id),
      outbox_(outbox),
      fs_(fs),
      clock_(clock),
      tombstones_(tombstones),
      schedule_(options_.schedule),
      client_(std::make_shared<PeerClient>(std::move(peer))) {
  const MetricLabels labels = {{"peer", peer_id_}};
  if (metrics) {
    auto counter = [&](std::string_view name, std::string_view help) -> Counter* {
      Result<Counter*> c = metrics->AddCounter(name, help, labels);
      return c.ok() ? *c : nullptr;
    };
    auto gauge = [&](std::string_view name, std::string_view help) -> Gauge* {
      Result<Gauge*> g = metrics->AddGauge(name, help, labels);
      return g.ok() ? *g : nullptr;
    };
    bytes_total_ = counter("callvault_replication_sent_bytes_total",
                           "Audio bytes sent to a peer (resends included).");
    calls_total_ = counter("callvault_replication_sent_calls_total",
                           "Calls a peer confirmed durable (or already had).");
    window_gauge_ = gauge("callvault_replication_window_open",
                          "1 while the peer's schedule lets transfers run.");
    up_gauge_ =
        gauge("callvault_replication_peer_up", "1 when the last exchange with the peer succeeded.");
    auto errors =
        metrics->AddCounterFamily("callvault_replication_errors_total",
                                  "Failed transfers to a peer, by kind.", {"kind"}, labels);
    if (errors.ok()) errors_ = *errors;
  }
  outbox::DrainerOptions d;
  d.queue = PeerQueueName(peer_id_);
  d.consumer = "replication:" + peer_id_;
  d.batch = std::max(1, options_.batch);
  d.first_backoff = options_.first_backoff;
  d.max_backoff = options_.max_backoff;
  d.linger = std::chrono::milliseconds(0);
  d.gate = [this] { return window_open(); };
  drainer_ = std::make_unique<outbox::Drainer>(
      std::move(d), outbox_, clock_,
      [this](std::vector<outbox::Delivery>& b) { return ApplyBatch(b); }, metrics);
}

Sender::~Sender() { Stop(); }

void Sender::Start() { drainer_->Start(); }
void Sender::Stop() { drainer_->Stop(); }

std::string Sender::queue() const { return PeerQueueName(peer_id_); }

void Sender::SetSchedule(Schedule schedule) {
  MutexLock lock(&mu_);
  schedule_ = std::move(schedule);
}

void Sender::SetPeer(PeerClientOptions peer) {
  auto client = std::make_shared<PeerClient>(std::move(peer));
  MutexLock lock(&mu_);
  client_ = std::move(client);
}

std::shared_ptr<PeerClient> Sender::client() const {
  MutexLock lock(&mu_);
  return client_;
}

bool Sender::window_open() const {
  bool open;
  {
    MutexLock lock(&mu_);
    open = schedule_.IsOpen(clock_->WallNow());
  }
  if (window_gauge_) window_gauge_->Set(open ? 1 : 0);
  return open;
}

void Sender::CountError(std::string_view kind) {
  if (errors_) errors_->With({std::string(kind)})->Inc();
}

Status Sender::ApplyBatch(std::vector<outbox::Delivery>& batch) {
  const size_t threads = std::min<size_t>(std::max(1, options_.parallel), batch.size());
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  Status first_error = Status::Ok();
  auto worker = [&] {
    if (options_.lower_priority) LowerPriorityOnce();
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= batch.size()) return;
      // The window closed: what is in flight finishes, nothing new starts.
      if (!window_open()) return;
      Status s = Transfer(batch[i]);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = s;
        // The peer is unreachable: stop starting transfers this round.
        if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
            s.code() == StatusCode::kPermissionDenied || s.code() == StatusCode::kResourceExhausted)
          next.store(batch.size());
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return first_error;
}

Status Sender::Transfer(outbox::Delivery& d) {
  const std::string& id = d.entry.call_id;
  if (tombstones_ && tombstones_->Contains(id)) {
    d.outcome = outbox::Outcome::kDropped;
    d.reason = "deleted in the cluster";
    return Status::Ok();
  }
  const std::string manifest_path = options_.recordings_dir + "/" + d.entry.manifest;
  Result<std::string> text = fs_->ReadFile(manifest_path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      if (tombstones_ && tombstones_->Contains(id)) {
        d.outcome = outbox::Outcome::kDropped;
        d.reason = "deleted in the cluster";
        return Status::Ok();
      }
      d.outcome = outbox::Outcome::kRejected;
      d.reason = "the manifest " + d.entry.manifest + " is gone";
      return Status::Ok();
    }
    CountError("local");
    return text.status();
  }
  Result<recording::Manifest> m = recording::ParseManifest(*text);
  if (!m.ok()) {
    d.outcome = outbox::Outcome::kRejected;
    d.reason = "manifest: " + m.status().ToString();
    return Status::Ok();
  }
  const uint64_t total = static_cast<uint64_t>(m->audio.bytes);
  // Where the audio was moved, if it was: the relocator's entry says it (or a manifest that
  // came here without its audio, relayed on).
  const std::string& location = d.entry.location.empty() ? m->audio.location : d.entry.location;
  const bool remote = options_.shared_bucket && !location.empty();
  const std::shared_ptr<PeerClient> client = this->client();
  const auto fail = [&](const Status& s) {
    CountError(ErrorKind(s));
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
      peer_up_.store(false);
      if (up_gauge_) up_gauge_->Set(0);
    }
    return s;
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<CallStatus> st = client->Lookup(id, m->node_id, m->audio.file);
    if (!st.ok()) return fail(st.status());
    peer_up_.store(true);
    if (up_gauge_) up_gauge_->Set(1);
    if (st->presence == Presence::kHave || st->presence == Presence::kDeleted) {
      d.outcome =
          st->presence == Presence::kHave ? outbox::Outcome::kDone : outbox::Outcome::kDropped;
      if (st->presence == Presence::kDeleted) d.reason = "deleted on the peer";
      if (st->presence == Presence::kHave) sent_calls_.fetch_add(1);
      if (st->presence == Presence::kHave && calls_total_) calls_total_->Inc();
      return Status::Ok();
    }
    uint64_t offset = st->presence == Presence::kPartial ? st->offset : 0;
    if (offset > total) offset = 0;  // the peer holds more than the file: it restarts (409)
    if (!remote && (offset < total || total == 0)) {
      Result<std::unique_ptr<RandomAccessFile>> audio =
          fs_->NewRandomAccessFile(options_.recordings_dir + "/" + m->audio.file);
      if (!audio.ok()) {
        if (audio.status().code() == StatusCode::kNotFound) {
          d.outcome = outbox::Outcome::kRejected;
          d.reason = location.empty()
                         ? "the audio " + m->audio.file + " is not on this node"
                         : "the audio is at " + location +
                               " and the peer does not share that bucket (shared_bucket)";
          return Status::Ok();
        }
        CountError("local");
        return audio.status();
      }
      uint64_t sent = 0, peer_offset = 0;
      Status put = client->PutAudio(id, **audio, offset, total, &sent, &peer_offset);
      sent_bytes_.fetch_add(sent);
      if (bytes_total_) bytes_total_->Add(sent);
      if (!put.ok()) {
        if (put.code() == StatusCode::kFailedPrecondition) {  // offset moved: look again
          CountError("offset_mismatch");
          continue;
        }
        if (put.code() == StatusCode::kInvalidArgument &&
            put.message().find("deleted") != std::string_view::npos) {
          continue;
        }
        return fail(put);
      }
    }
    Result<PeerClient::Committed> c = client->Commit(id, *text, remote ? location : "");
    if (!c.ok()) {
      if (remote && c.status().message().find("not_shared_bucket") != std::string_view::npos) {
        CountError("bucket_mismatch");
        return c.status();  // configuration: the entry waits, the log says why
      }
      if (c.status().code() == StatusCode::kDataLoss) {  // the peer discarded it: from 0
        CV_LOG_WARN("replication.resend", "peer={} call={} reason=\"{}\"", peer_id_, id,
                    c.status().message());
        CountError("mismatch");
        continue;
      }
      return fail(c.status());
    }
    d.outcome =
        c->presence == Presence::kDeleted ? outbox::Outcome::kDropped : outbox::Outcome::kDone;
    if (c->presence == Presence::kDeleted) {
      d.reason = "deleted on the peer";
    } else {
      sent_calls_.fetch_add(1);
      if (calls_total_) calls_total_->Inc();
    }
    CV_LOG_DEBUG("replication.call_sent", "peer={} call={} bytes={} from_offset={}{}", peer_id_,
                 id, remote ? 0 : total, offset,
                 remote ? fmt::format(" location=\"{}\"", location) : "");
    return Status::Ok();
  }
  CountError("mismatch");
  return DataLossError(
      fmt::format("peer {}: call {} did not arrive intact twice; retried later", peer_id_, id));
}

}  // namespace callvault::replication
