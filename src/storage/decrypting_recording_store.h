// DecryptingRecordingStore: a RecordingStore decorator that serves encrypted recordings
// (docs/formats/encrypted-audio.md) as their plaintext. OpenAudio() opens the inner store's
// reader and looks at the stored bytes: a file that starts with the encrypted-audio magic
// (crypto::LooksEncrypted) is opened through crypto::DecryptingReader, so the reader's size()
// is the plaintext size and Read() returns authenticated plaintext (ranges map to chunks; no
// byte of a chunk that fails authentication is ever returned). Plain files pass through
// unchanged. The bytes decide, not only the catalog: a file that is encrypted is never served
// as audio even when the ref does not say so; a ref that says `encrypted` over bytes that are
// not is refused (DataLoss: something replaced the ciphertext).
//
// Errors of OpenAudio, besides the inner store's:
//   FailedPrecondition + IsKeyDestroyed(): the file's tenant key was crypto-shredded
//     (http/ answers 410 Gone);
//   FailedPrecondition (not destroyed): no key for it on this node (unknown key id, or no key
//     store configured);
//   DataLoss: a bad header, truncation, a final chunk that fails authentication, a data key
//     that does not unwrap, or the ref/bytes mismatch above (each counts one decrypt failure).
// Read() errors: DataLoss for a chunk that fails authentication (counted), else the inner's.
// ETag: the inner reader's (QuotedEtag(ref.sha256): the hash of the stored bytes, which is as
// strong a validator of the plaintext as of the ciphertext).
// Delete, Locate and Recover are forwarded unchanged.
//
// Who calls it: app/ wraps the store it hands to http/ (always, so that ciphertext is never
// served even on a node without keys); tests.
// Thread-safety: thread-safe as the inner store and the key lookup are (KeyStore is); readers
// may be read from several threads at once.
#pragma once

#include <memory>
#include <string>

#include "base/metrics.h"
#include "base/status.h"
#include "crypto/tenant_key.h"
#include "storage/recording_store.h"

namespace callvault::storage {

struct DecryptingStoreOptions {
  // Finds tenant keys by id (crypto::KeyStore::Lookup()). Null: this node has no keys, and
  // every encrypted recording is refused with FailedPrecondition. Default: null.
  crypto::KeyLookupFn keys;
  // callvault_decrypt_failures_total (crypto::RegisterDecryptMetrics). May be null.
  Counter* decrypt_failures = nullptr;
};

// True for the OpenAudio error that means "the tenant key was destroyed" (HTTP 410).
bool IsKeyDestroyed(const Status& status);

class DecryptingRecordingStore final : public RecordingStore {
 public:
  // REQUIRES: `inner` outlives this store.
  DecryptingRecordingStore(RecordingStore* inner, DecryptingStoreOptions options);

  Result<std::unique_ptr<AudioReader>> OpenAudio(const RecordingRef& ref) override;
  [[nodiscard]] Status Delete(const RecordingRef& ref) override { return inner_->Delete(ref); }
  Result<std::string> Locate(const RecordingRef& ref) override { return inner_->Locate(ref); }
  [[nodiscard]] Status Recover() override { return inner_->Recover(); }

 private:
  RecordingStore* const inner_;
  const DecryptingStoreOptions options_;
};

}  // namespace callvault::storage
