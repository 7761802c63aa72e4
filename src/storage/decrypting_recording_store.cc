#include "storage/decrypting_recording_store.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "crypto/decrypting_reader.h"
#include "crypto/encrypted_file_format.h"

namespace callvault::storage {
namespace {

// The marker IsKeyDestroyed() looks for in OpenAudio's FailedPrecondition.
constexpr std::string_view kKeyDestroyed = "tenant key destroyed";

// The plaintext of an encrypted recording. Owns the inner reader the decrypter reads from.
class DecryptedAudioReader final : public AudioReader {
 public:
  DecryptedAudioReader(std::shared_ptr<AudioReader> inner,
                       std::unique_ptr<crypto::DecryptingReader> plain)
      : inner_(std::move(inner)), plain_(std::move(plain)) {}

  uint64_t size() const override { return plain_->plaintext_size(); }
  std::string etag() const override { return inner_->etag(); }
  Result<size_t> Read(uint64_t offset, size_t len, char* buf) override {
    return plain_->Read(offset, len, buf);
  }

 private:
  const std::shared_ptr<AudioReader> inner_;
  const std::unique_ptr<crypto::DecryptingReader> plain_;
};

// Reads up to `len` bytes at 0 (all of them unless the file is shorter).
Result<std::string> ReadPrefix(AudioReader& reader, size_t len) {
  std::string out(static_cast<size_t>(std::min<uint64_t>(len, reader.size())), '\0');
  size_t got = 0;
  while (got < out.size()) {
    CV_ASSIGN_OR_RETURN(size_t n, reader.Read(got, out.size() - got, out.data() + got));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

}  // namespace

bool IsKeyDestroyed(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find(kKeyDestroyed) != std::string_view::npos;
}

DecryptingRecordingStore::DecryptingRecordingStore(RecordingStore* inner,
                                                   DecryptingStoreOptions options)
    : inner_(inner), options_(std::move(options)) {}

Result<std::unique_ptr<AudioReader>> DecryptingRecordingStore::OpenAudio(const RecordingRef& ref) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AudioReader> opened, inner_->OpenAudio(ref));
  const std::string what = "recording of call " + ref.call_id;
  auto count_failure = [this] {
    if (options_.decrypt_failures != nullptr) options_.decrypt_failures->Inc();
  };
  // The header is at most kMaxHeaderSize bytes: read it once, and serve the decrypter's header
  // read from it (one source read less — a ranged GET less over a bucket).
  CV_ASSIGN_OR_RETURN(const std::string prefix, ReadPrefix(*opened, crypto::kMaxHeaderSize));
  if (!crypto::LooksEncrypted(prefix)) {
    if (ref.encrypted) {
      count_failure();
      return DataLossError(what +
                           ": the catalog says it is encrypted but the stored bytes are "
                           "not (replaced or damaged); refusing to serve them");
    }
    return opened;
  }
  std::shared_ptr<AudioReader> inner = std::move(opened);
  if (!options_.keys) {
    return FailedPreconditionError(what +
                                   " is encrypted and this node has no key store "
                                   "(encryption.master_key_file is not set)");
  }
  // The key lookup's own outcome tells a missing or destroyed key from bad bytes.
  auto key_status = std::make_shared<Status>();
  crypto::KeyLookupFn lookup = [keys = options_.keys,
                                key_status](std::string_view key_id) -> Result<crypto::TenantKey> {
    Result<crypto::TenantKey> k = keys(key_id);
    if (!k.ok()) *key_status = k.status();
    return k;
  };
  const std::shared_ptr<const std::string> head = std::make_shared<const std::string>(prefix);
  crypto::ReadAtFn source = [inner, head](uint64_t offset, size_t len,
                                          char* buf) -> Result<size_t> {
    if (offset + len <= head->size()) {
      std::memcpy(buf, head->data() + offset, len);
      return len;
    }
    return inner->Read(offset, len, buf);
  };
  Result<std::unique_ptr<crypto::DecryptingReader>> plain =
      crypto::DecryptingReader::Open(std::move(source), inner->size(), lookup,
                                     {.decrypt_failures = options_.decrypt_failures, .name = what});
  if (!plain.ok()) {
    const Status& s = plain.status();
    if (!key_status->ok()) {
      if (key_status->code() == StatusCode::kFailedPrecondition) {
        return FailedPreconditionError(what + ": " + std::string(kKeyDestroyed) + " (" +
                                       std::string(key_status->message()) + ")");
      }
      if (key_status->code() == StatusCode::kNotFound) {
        return FailedPreconditionError(what + ": its tenant key is not on this node (" +
                                       std::string(key_status->message()) + ")");
      }
    }
    return s;
  }
  return std::unique_ptr<AudioReader>(
      new DecryptedAudioReader(std::move(inner), std::move(plain).value()));
}

}  // namespace callvault::storage
