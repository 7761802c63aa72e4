#include "app/storage_stack.h"

#include "app/data_dir.h"
#include "base/log.h"

namespace callvault::app {

Result<storage::s3::S3Options> S3OptionsFromConfig(const Config& c, Fs& fs) {
  storage::s3::S3Options o;
  o.endpoint = c.s3.endpoint;
  o.bucket = c.s3.bucket;
  o.prefix = c.s3.prefix;
  o.region = c.s3.region;
  o.access_key_id = c.s3.access_key_id;
  o.path_style = c.s3.path_style;
  o.sse = c.s3.sse;
  o.sse_kms_key_id = c.s3.sse_kms_key_id;
  o.multipart_threshold_mb = static_cast<uint32_t>(c.s3.multipart_threshold_mb);
  o.part_size_mb = static_cast<uint32_t>(c.s3.part_size_mb);
  o.parts_in_flight = static_cast<uint32_t>(c.s3.parts_in_flight);
  o.request_timeout_ms = static_cast<uint32_t>(c.s3.timeout_s) * 1000;
  o.ca_file = c.s3.ca_file;
  o.verify_tls = c.s3.verify_tls;
  Result<std::string> secret = storage::s3::LoadSecretFile(fs, c.s3.secret_access_key_file);
  if (!secret.ok()) {
    return InvalidArgumentError("s3.secret_access_key_file: " + secret.status().ToString());
  }
  o.secret_access_key = std::move(secret).value();
  CV_RETURN_IF_ERROR(storage::s3::ValidateOptions(o));
  return o;
}

Result<std::unique_ptr<StorageStack>> StorageStack::Create(
    const Config& config, Fs* fs, const Clock* clock, Registry* metrics, outbox::Outbox* outbox,
    storage::LocalRecordingStore* local, catalog::Catalog* catalog, StorageStackOptions options) {
  std::unique_ptr<StorageStack> s(new StorageStack());
  s->fs_ = fs;
  if (config.storage.backend == "s3") {
    CV_ASSIGN_OR_RETURN(storage::s3::S3Options o, S3OptionsFromConfig(config, *fs));
    CV_ASSIGN_OR_RETURN(s->s3_client_, storage::s3::Client::Create(o));
    s->s3_store_ = std::make_unique<storage::S3RecordingStore>(s->s3_client_.get());
    CV_ASSIGN_OR_RETURN(storage::UploadVerify verify,
                        storage::ParseUploadVerify(config.storage.verify));
    s->target_ = std::make_unique<storage::S3RelocationTarget>(s->s3_store_.get(), verify);
    if (options.relocate) {
      storage::RelocatorOptions ro{
          .queue = kRelocationQueue,
          .workers = config.storage.relocate_workers,
          .delay = std::chrono::seconds(config.storage.relocate_after_s),
          .batch = std::max(4, config.storage.relocate_workers * 4)};
      ro.wait_for_queues = DataDirOf(config).audio_peer_queues();
      ro.then_queues = DataDirOf(config).shared_peer_queues();
      s->relocator_ = std::make_unique<storage::Relocator>(
          ro, outbox, fs, local, s->target_.get(), catalog, clock, metrics);
    }
  }
  s->tiered_ = std::make_unique<storage::TieredRecordingStore>(local, s->s3_store_.get());
  s->purger_ = std::make_unique<storage::Purger>(storage::PurgerOptions{}, catalog,
                                                 s->tiered_.get(), clock, metrics);
  std::vector<retention::Policy> policies;
  for (const RetentionPolicy& p : config.retention.policies) {
    CV_ASSIGN_OR_RETURN(retention::Policy policy,
                        retention::MakePolicy(p.name, p.older_than_days, p.tenant, p.tags, p.states));
    policies.push_back(std::move(policy));
  }
  storage::Purger* purger = s->purger_.get();
  s->retention_ = std::make_unique<retention::Retention>(std::move(policies), catalog, clock,
                                                         metrics, [purger] { purger->Wake(); });
  s->retention_interval_ = std::chrono::seconds(config.retention.interval_s);
  s->retention_batch_ = config.retention.batch;
  return s;
}

StorageStack::~StorageStack() { Stop(); }

void StorageStack::Start() {
  if (started_) return;
  started_ = true;
  purger_->Start();
  if (relocator_) relocator_->Start();
  retention_->Start(retention_interval_, retention_batch_);
}

void StorageStack::Stop() {
  if (!started_) return;
  started_ = false;
  retention_->Stop();
  if (relocator_) relocator_->Stop();
  purger_->Stop();
}

Status StorageStack::ReloadCredentials(const Config& config) {
  if (!s3_client_) return Status::Ok();
  Result<std::string> secret = storage::s3::LoadSecretFile(*fs_, config.s3.secret_access_key_file);
  if (!secret.ok()) return secret.status().Annotate("s3.secret_access_key_file");
  s3_client_->SetCredentials(config.s3.access_key_id, std::move(secret).value());
  if (relocator_) relocator_->drainer().RetryNow();  // a backoff on the old secret ends now
  CV_LOG_INFO("storage.credentials_reloaded", "access_key_id={}", config.s3.access_key_id);
  return Status::Ok();
}

}  // namespace callvault::app
