#include "app/encryption.h"

#include <fmt/format.h>

#include "app/data_dir.h"
#include "base/log.h"
#include "crypto/decrypting_reader.h"
#include "crypto/master_key.h"

namespace callvault::app {

std::string KeysDirOf(const Config& config) { return config.node.data_dir + "/keys"; }

Result<std::unique_ptr<crypto::KeyStore>> OpenKeyStore(const Config& config, Fs* fs) {
  const std::string& file = config.encryption.master_key_file;
  if (file.empty())
    return FailedPreconditionError("encryption is off: encryption.master_key_file is not set");
  const DataDir dirs = DataDirOf(config);
  const std::string what = "encryption.master_key_file " + file;
  Result<crypto::MasterKey> master = crypto::LoadMasterKey(*fs, file, dirs.root);
  if (!master.ok()) return master.status().Annotate(what);
  // A recordings directory outside the data directory must not hold the key either.
  if (!dirs.recordings_override.empty()) {
    Result<crypto::MasterKey> again = crypto::LoadMasterKey(*fs, file, dirs.recordings_override);
    if (!again.ok()) return again.status().Annotate(what);
  }
  Result<std::unique_ptr<crypto::KeyStore>> keys =
      crypto::KeyStore::Open(fs, KeysDirOf(config), *master);
  if (!keys.ok()) return keys.status().Annotate("opening the tenant keys in " + KeysDirOf(config));
  return keys;
}

Encryption::Encryption(const Config& config) : config_(config) {}

Encryption::~Encryption() = default;

Status Encryption::Start(Fs* fs, Registry* metrics) {
  Result<Counter*> counter = crypto::RegisterDecryptMetrics(*metrics);
  if (counter.ok()) decrypt_failures_ = *counter;
  const EncryptionConfig& c = config_.encryption;
  if (c.master_key_file.empty()) {
    CV_LOG_INFO("crypto.off", "reason=\"encryption.master_key_file is not set\"");
    return Status::Ok();
  }
  CV_ASSIGN_OR_RETURN(keys_, OpenKeyStore(config_, fs));
  size_t live = 0;
  for (const crypto::TenantKeyInfo& k : keys_->List()) live += k.destroyed ? 0 : 1;
  CV_LOG_INFO(
      "crypto.ready", "master_key_file=\"{}\" keys_dir=\"{}\" live_keys={} tenants={}",
      c.master_key_file, KeysDirOf(config_), live,
      c.tenants.empty() ? std::string("none") : fmt::format("{}", fmt::join(c.tenants, ",")));
  return Status::Ok();
}

recording::AudioKeyFn Encryption::AudioKeys() {
  if (config_.encryption.tenants.empty()) return nullptr;  // nothing to encrypt
  return [this](std::string_view tenant) {
    return recording::AudioKeyFor(keys_.get(), config_.encryption.tenants, tenant);
  };
}

storage::RecordingStore* Encryption::Wrap(storage::RecordingStore* inner) {
  storage::DecryptingStoreOptions o;
  if (keys_) o.keys = keys_->Lookup();
  o.decrypt_failures = decrypt_failures_;
  store_ = std::make_unique<storage::DecryptingRecordingStore>(inner, std::move(o));
  return store_.get();
}

}  // namespace callvault::app
