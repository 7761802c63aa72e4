#include "catalog/ingester.h"

#include <algorithm>

#include "base/log.h"
#include "recording/manifest_reader.h"

namespace callvault::catalog {
namespace {

constexpr size_t kMaxNoticesPerRound = 1000;

outbox::DrainerOptions DrainerOptionsFrom(const IngesterOptions& o) {
  outbox::DrainerOptions d;
  d.queue = o.queue;
  d.consumer = "catalog";
  d.batch = o.batch;
  d.poll = o.poll;
  d.max_backoff = o.max_backoff;
  return d;
}

}  // namespace

Ingester::Ingester(IngesterOptions options, outbox::Outbox* outbox, const Clock* clock,
                   Catalog* catalog, Registry* metrics)
    : options_(std::move(options)),
      outbox_(outbox),
      fs_(outbox->fs()),
      clock_(clock),
      catalog_(catalog),
      copies_(options_.copies, catalog, clock, metrics),
      drainer_(
          DrainerOptionsFrom(options_), outbox, clock,
          [this](std::vector<outbox::Delivery>& batch) { return ApplyBatch(batch); }, metrics,
          [this](bool* more) { return BeforeRound(more); }) {
  if (metrics) {
    ingested_total_ =
        metrics
            ->AddCounter("callvault_ingest_calls_total", "Finished calls applied to the catalog.")
            .value();
    backlog_gauge_ =
        metrics->AddGauge("callvault_ingest_backlog", "Finished calls waiting for the catalog.")
            .value();
    lag_gauge_ = metrics
                     ->AddGauge("callvault_ingest_lag_seconds",
                                "Age of the oldest finished call not yet in the catalog.")
                     .value();
  }
}

Ingester::~Ingester() { Stop(); }

void Ingester::Start() { drainer_.Start(); }

void Ingester::Stop() { drainer_.Stop(); }

void Ingester::Notify() { drainer_.Wake(); }

void Ingester::CallActive(const ActiveCall& call) {
  {
    MutexLock lock(&mu_);
    notices_.emplace_back(call);
    if (notices_.size() > options_.max_notices) notices_.pop_front();
  }
  drainer_.Wake();
}

void Ingester::CallAborted(const std::string& call_id) {
  {
    MutexLock lock(&mu_);
    notices_.emplace_back(Remove{call_id});
    if (notices_.size() > options_.max_notices) notices_.pop_front();
  }
  drainer_.Wake();
}

bool Ingester::WaitIdle(std::chrono::milliseconds timeout) { return drainer_.WaitIdle(timeout); }

size_t Ingester::backlog() const {
  return static_cast<size_t>(std::max<int64_t>(0, outbox_->backlog(options_.queue)));
}

void Ingester::UpdateGauges() {
  if (backlog_gauge_) backlog_gauge_->Set(static_cast<double>(backlog()));
  if (lag_gauge_) lag_gauge_->Set(drainer_.lag_seconds());
}

Status Ingester::BeforeRound(bool* more) {
  UpdateGauges();
  Status s = ApplyNotices(more);
  bool reconcile = false;
  {
    MutexLock lock(&mu_);
    if (!s.ok()) reconcile_due_ = true;
    reconcile = s.ok() && (reconcile_due_ || clock_->Now() >= next_reconcile_);
  }
  if (reconcile) {
    s = Reconcile();
    if (s.ok()) s = copies_.Sweep();
    MutexLock lock(&mu_);
    reconcile_due_ = !s.ok();
    if (s.ok()) next_reconcile_ = clock_->Now() + options_.reconcile_every;
  }
  return s;
}

Status Ingester::ApplyNotices(bool* more) {
  std::deque<Notice> taken;
  {
    MutexLock lock(&mu_);
    const size_t n = std::min(notices_.size(), kMaxNoticesPerRound);
    taken.assign(std::make_move_iterator(notices_.begin()),
                 std::make_move_iterator(notices_.begin() + static_cast<ptrdiff_t>(n)));
    notices_.erase(notices_.begin(), notices_.begin() + static_cast<ptrdiff_t>(n));
    *more = !notices_.empty();
  }
  Status s;
  while (!taken.empty()) {
    if (auto* remove = std::get_if<Remove>(&taken.front())) {
      s = catalog_->RemoveActive(remove->call_id);
      if (!s.ok()) break;
      taken.pop_front();
      continue;
    }
    std::vector<ActiveCall> group;  // consecutive upserts go in one statement batch
    for (const Notice& n : taken) {
      if (!std::holds_alternative<ActiveCall>(n)) break;
      group.push_back(std::get<ActiveCall>(n));
    }
    s = catalog_->UpsertActive(group);
    if (!s.ok()) break;
    taken.erase(taken.begin(), taken.begin() + static_cast<ptrdiff_t>(group.size()));
  }
  if (!taken.empty()) {  // back to the front, in order, within the bound
    MutexLock lock(&mu_);
    notices_.insert(notices_.begin(), std::make_move_iterator(taken.begin()),
                    std::make_move_iterator(taken.end()));
    while (notices_.size() > options_.max_notices) notices_.pop_front();
  }
  return s;
}

Status Ingester::ApplyBatch(std::vector<outbox::Delivery>& batch) {
  std::vector<outbox::Delivery*> ready;
  std::vector<recording::Manifest> manifests;
  for (outbox::Delivery& d : batch) {
    const std::string& rel = d.entry.manifest;
    Result<std::string> text = fs_->ReadFile(options_.recordings_dir + "/" + rel);
    if (!text.ok()) {
      if (text.status().code() != StatusCode::kNotFound) return text.status();  // the disk
      // Gone: deleted meanwhile (drop), or lost (an operator must look).
      CV_ASSIGN_OR_RETURN(const bool deleted, catalog_->IsDeleted(d.entry.call_id));
      d.outcome = deleted ? outbox::Outcome::kDropped : outbox::Outcome::kRejected;
      d.reason = deleted ? "the call was deleted" : "manifest " + rel + " does not exist";
      continue;
    }
    Result<recording::Manifest> manifest = recording::ParseManifest(*text);
    if (!manifest.ok() || manifest->call_id != d.entry.call_id) {
      d.outcome = outbox::Outcome::kRejected;
      d.reason = "manifest " + rel + ": " +
                 (manifest.ok() ? "it names call " + manifest->call_id
                                : std::string(manifest.status().message()));
      continue;
    }
    ready.push_back(&d);
    manifests.push_back(std::move(manifest).value());
  }
  if (manifests.empty()) return Status::Ok();

  // A call a peer replicated without its audio (both share the S3 bucket it was moved to): its
  // manifest names the location, which becomes this catalog's location row (rows need no call
  // row, and a repeated record is the same row).
  for (const recording::Manifest& m : manifests) {
    if (m.audio.location.empty()) continue;
    CV_ASSIGN_OR_RETURN(std::optional<RecordingLocation> known, catalog_->GetLocation(m.call_id));
    if (known && known->location == m.audio.location) continue;
    CV_RETURN_IF_ERROR(catalog_->RecordLocation(
        {.call_id = m.call_id,
         .audio_file = m.audio.file,
         .location = m.audio.location,
         .stored_bytes = static_cast<uint64_t>(m.audio.bytes),
         .stored_sha256 = m.audio.sha256,
         .key_id = m.audio.encryption ? m.audio.encryption->key_id : "",
         .relocated_ms = m.times.finalized_ms}));
  }

  Status s = catalog_->IngestManifests(manifests);
  size_t done = 0;
  if (s.ok()) {
    for (outbox::Delivery* d : ready) d->outcome = outbox::Outcome::kDone;
    done = ready.size();
  } else if (s.code() == StatusCode::kInvalidArgument) {
    // One bad manifest fails the batch: apply one by one, set the bad ones aside.
    s = Status::Ok();
    for (size_t i = 0; i < ready.size(); ++i) {
      Status one = catalog_->IngestManifests({manifests[i]});
      if (one.ok()) {
        ready[i]->outcome = outbox::Outcome::kDone;
        ++done;
      } else if (one.code() == StatusCode::kInvalidArgument) {
        ready[i]->outcome = outbox::Outcome::kRejected;
        ready[i]->reason = std::string(one.message());
      } else {
        s = one;  // the rest stay kRetry
        break;
      }
    }
  }
  if (!s.ok()) {
    MutexLock lock(&mu_);
    reconcile_due_ = true;
  }
  if (done > 0) {
    std::vector<std::string> sip_call_ids;
    for (size_t i = 0; i < ready.size(); ++i) {
      if (ready[i]->outcome == outbox::Outcome::kDone)
        sip_call_ids.push_back(manifests[i].sip_call_id);
    }
    if (Status c = copies_.Reconcile(sip_call_ids); !c.ok()) {
      CV_LOG_WARN("catalog.copies_failed", "error=\"{}\" (retried by the sweep)", c.message());
      MutexLock lock(&mu_);
      reconcile_due_ = true;
    }
    ingested_.fetch_add(done);
    if (ingested_total_) ingested_total_->Add(done);
    CV_LOG_DEBUG("catalog.ingested", "calls={} backlog={}", done, backlog());
  }
  return s;
}

Status Ingester::Reconcile() {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> active, catalog_->ActiveCallIds(options_.node_id));
  // Looked at after the query: a call that ended meanwhile has its outbox entry before its
  // spool directory goes (finalizer step 4 before 6), and only the drainer removes entries.
  for (const std::string& id : active) {
    if (fs_->Exists(options_.spool_dir + "/" + id) || outbox_->Contains(options_.queue, id))
      continue;
    CV_RETURN_IF_ERROR(catalog_->RemoveActive(id));
    CV_LOG_INFO("catalog.active_reconciled", "call={} reason=\"no spool and no outbox entry\"", id);
  }
  return Status::Ok();
}

}  // namespace callvault::catalog
