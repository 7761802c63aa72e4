#include "crypto/encrypting_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/internal/aead.h"

namespace callvault::crypto {

struct EncryptingFile::State {
  SecretKey data_key;
  std::array<uint8_t, kNoncePrefixSize> nonce_prefix{};
  std::string header_sha256;  // raw, part of every chunk's AAD
  EVP_MD_CTX* stored_hash = nullptr;

  ~State() { EVP_MD_CTX_free(stored_hash); }
};

EncryptingFile::EncryptingFile(std::unique_ptr<AppendableFile> inner)
    : inner_(std::move(inner)), state_(std::make_unique<State>()) {}

EncryptingFile::~EncryptingFile() {
  // Not closed: the inner file's destructor closes it without a final chunk (a reader sees a
  // truncated file). The plaintext buffer is wiped like the keys.
  OPENSSL_cleanse(pending_.data(), pending_.size());
}

Result<std::unique_ptr<EncryptingFile>> EncryptingFile::Create(
    std::unique_ptr<AppendableFile> inner, const TenantKey& tenant_key) {
  if (inner->size() != 0) {
    return FailedPreconditionError("encrypting " + inner->path() + ": the file is not empty");
  }
  if (!IsValidTenant(tenant_key.tenant) || !IsValidKeyId(tenant_key.key_id)) {
    return InvalidArgumentError("encrypting " + inner->path() +
                                ": tenant or key id not representable in the header");
  }
  std::unique_ptr<EncryptingFile> file(new EncryptingFile(std::move(inner)));
  State& st = *file->state_;
  CV_ASSIGN_OR_RETURN(st.data_key, SecretKey::Random());
  EncryptedFileHeader h;
  h.tenant = tenant_key.tenant;
  h.key_id = tenant_key.key_id;
  CV_RETURN_IF_ERROR(internal::RandomBytes(h.wrap_nonce.data(), h.wrap_nonce.size()));
  CV_RETURN_IF_ERROR(internal::RandomBytes(h.nonce_prefix.data(), h.nonce_prefix.size()));
  st.nonce_prefix = h.nonce_prefix;
  // The wrap's AAD is the header up to the key id; the wrap fields are filled in afterwards.
  std::string header = SerializeEncryptedHeader(h);
  CV_RETURN_IF_ERROR(internal::GcmSeal(
      tenant_key.key, h.wrap_nonce.data(), std::string_view(header).substr(0, h.wrap_aad_size()),
      std::string_view(reinterpret_cast<const char*>(st.data_key.data()), SecretKey::kSize),
      reinterpret_cast<char*>(h.wrapped_data_key.data()), h.wrap_tag.data()));
  header = SerializeEncryptedHeader(h);
  st.header_sha256 = internal::Sha256(header);
  st.stored_hash = EVP_MD_CTX_new();
  if (st.stored_hash == nullptr || EVP_DigestInit_ex(st.stored_hash, EVP_sha256(), nullptr) != 1) {
    return InternalError("encrypting: SHA-256 init failed");
  }
  file->key_id_ = tenant_key.key_id;
  file->pending_.reserve(kChunkSize);
  file->sealed_.resize(kStoredChunkSize);
  CV_RETURN_IF_ERROR(file->WriteStored(header));
  return file;
}

Status EncryptingFile::Usable(std::string_view what) const {
  if (closed_) return FailedPreconditionError(std::string(what) + " closed file " + path());
  if (broken_) {
    return FailedPreconditionError(std::string(what) + " " + path() +
                                   ": an earlier write failed, the encrypted file is unusable");
  }
  return Status::Ok();
}

Status EncryptingFile::WriteStored(std::string_view bytes) {
  Status s = inner_->Append(bytes);
  if (!s.ok()) {
    broken_ = true;
    return s;
  }
  EVP_DigestUpdate(state_->stored_hash, bytes.data(), bytes.size());
  stored_size_ += bytes.size();
  return Status::Ok();
}

Status EncryptingFile::EncryptChunk(std::string_view plaintext, bool final) {
  const State& st = *state_;
  const auto nonce = ChunkNonce(st.nonce_prefix, chunk_index_);
  const std::string aad = ChunkAad(st.header_sha256, chunk_index_, final);
  Status s = internal::GcmSeal(st.data_key, nonce.data(), aad, plaintext, sealed_.data(),
                               reinterpret_cast<uint8_t*>(sealed_.data()) + plaintext.size());
  if (!s.ok()) {
    broken_ = true;
    return s.Annotate("encrypting chunk " + std::to_string(chunk_index_) + " of " + path());
  }
  CV_RETURN_IF_ERROR(WriteStored(std::string_view(sealed_.data(), plaintext.size() + kTagSize)));
  ++chunk_index_;
  return Status::Ok();
}

Status EncryptingFile::Append(std::string_view data) {
  CV_RETURN_IF_ERROR(Usable("appending to"));
  while (!data.empty()) {
    if (pending_.empty() && data.size() >= kChunkSize) {  // a whole chunk straight from `data`
      CV_RETURN_IF_ERROR(EncryptChunk(data.substr(0, kChunkSize), /*final=*/false));
      data.remove_prefix(kChunkSize);
      plaintext_size_ += kChunkSize;
      continue;
    }
    const size_t take = std::min<size_t>(kChunkSize - pending_.size(), data.size());
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    plaintext_size_ += take;
    // A full chunk is never the final one (the final chunk holds < 64 KiB), so it goes now.
    if (pending_.size() == kChunkSize) {
      CV_RETURN_IF_ERROR(EncryptChunk(pending_, /*final=*/false));
      OPENSSL_cleanse(pending_.data(), pending_.size());
      pending_.clear();
    }
  }
  return Status::Ok();
}

Status EncryptingFile::Flush() {
  CV_RETURN_IF_ERROR(Usable("flushing"));
  return inner_->Flush();
}

Status EncryptingFile::Sync() {
  CV_RETURN_IF_ERROR(Usable("syncing"));
  sync_requested_ = true;
  return inner_->Sync();
}

Status EncryptingFile::Finish() {
  CV_RETURN_IF_ERROR(Usable("closing"));
  CV_RETURN_IF_ERROR(EncryptChunk(pending_, /*final=*/true));
  OPENSSL_cleanse(pending_.data(), pending_.size());
  pending_.clear();
  unsigned char digest[32];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->stored_hash, digest, &len) != 1) {
    broken_ = true;
    return InternalError("encrypting " + path() + ": SHA-256 failed");
  }
  stored_sha256_ = internal::HexEncode(std::string_view(reinterpret_cast<char*>(digest), len));
  return Status::Ok();
}

Status EncryptingFile::Close() {
  if (closed_) return FailedPreconditionError("closing closed file " + path());
  Status s = Finish();
  if (s.ok() && sync_requested_) s = inner_->Sync();
  closed_ = true;
  state_->data_key = SecretKey();
  Status c = inner_->Close();
  if (s.ok()) s = c;
  if (!s.ok()) stored_sha256_.clear();
  return s;
}

Status EncryptingFile::FinishAndSync() {
  if (closed_) return FailedPreconditionError("closing closed file " + path());
  Status s = Finish();
  if (s.ok()) s = inner_->Sync();
  closed_ = true;
  state_->data_key = SecretKey();
  Status c = inner_->Close();
  if (s.ok()) s = c;
  if (!s.ok()) stored_sha256_.clear();
  return s;
}

}  // namespace callvault::crypto
