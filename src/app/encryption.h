// Encryption at rest, wired from the [encryption] config (docs/formats/encrypted-audio.md):
// the master key (encryption.master_key_file), the node's tenant key store (<data_dir>/keys),
// the tenant policy (encryption.tenants) the finalizer follows, the decrypting store http/
// reads through, and the decrypt-failure counter.
//
//   Encryption encryption(config);                       // no I/O
//   finalize_options.audio_key = encryption.AudioKeys();
//   CV_RETURN_IF_ERROR(encryption.Start(fs, &metrics));  // before any finalize or HTTP request
//   http::HttpServer(..., encryption.Wrap(&recordings), ...);
//
// Start() refuses (and the server does not start) when the master key file is refused:
// readable by group/other, inside the data (or recordings) directory, unreadable, malformed; or
// when a key file under <data_dir>/keys does not unwrap with it (wrong master key).
// Without encryption.master_key_file nothing is encrypted, but the store http/ reads through
// still tells encrypted files apart and refuses them (never serves ciphertext as audio).
//
// Who calls it: app/server.cc, app/admin_cli.cc (OpenKeyStore).
// Thread-safety: Start() and Wrap() on the main thread before the finalizer and HTTP threads
// start; the AudioKeyFn and the wrapped store are then thread-safe (KeyStore is).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/status.h"
#include "crypto/key_store.h"
#include "recording/audio_key.h"
#include "storage/decrypting_recording_store.h"

namespace callvault::app {

// <data_dir>/keys: the tenant key files (crypto/key_store.h).
std::string KeysDirOf(const Config& config);

// Loads the master key from encryption.master_key_file (refused inside the data directory or
// the recordings directory, or with group/other permission bits; errors name the file and why)
// and opens the key store. FailedPrecondition when encryption.master_key_file is empty.
Result<std::unique_ptr<crypto::KeyStore>> OpenKeyStore(const Config& config, Fs* fs);

class Encryption {
 public:
  explicit Encryption(const Config& config);
  ~Encryption();

  // Registers callvault_decrypt_failures_total and, when a master key file is configured,
  // opens the key store (OpenKeyStore). Logs `crypto.ready` (tenants, key count; never keys).
  [[nodiscard]] Status Start(Fs* fs, Registry* metrics);

  // For recording::FinalizeOptions::audio_key: the tenant policy over the key store opened by
  // Start() (Unavailable for a call that must be encrypted before Start()).
  recording::AudioKeyFn AudioKeys();

  // `inner` behind a storage::DecryptingRecordingStore owned here. REQUIRES: Start() was
  // called; `inner` outlives this object; called once.
  storage::RecordingStore* Wrap(storage::RecordingStore* inner);

  crypto::KeyStore* key_store() const { return keys_.get(); }

 private:
  const Config config_;
  std::unique_ptr<crypto::KeyStore> keys_;
  Counter* decrypt_failures_ = nullptr;
  std::unique_ptr<storage::DecryptingRecordingStore> store_;
};

}  // namespace callvault::app
