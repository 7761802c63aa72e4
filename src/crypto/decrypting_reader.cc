#include "crypto/decrypting_reader.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "crypto/internal/aead.h"

namespace callvault::crypto {
namespace {

// A std::string whose bytes are wiped when it is freed (plaintext of a chunk that failed).
void Wipe(std::string* s) { OPENSSL_cleanse(s->data(), s->size()); }

}  // namespace

struct DecryptingReader::Keys {
  SecretKey data_key;
  std::string header_sha256;
};

ReadAtFn SourceOf(const RandomAccessFile* file) {
  return [file](uint64_t offset, size_t len, char* buf) { return file->Read(offset, len, buf); };
}

Result<Counter*> RegisterDecryptMetrics(Registry& registry) {
  return registry.AddCounter(
      "callvault_decrypt_failures_total",
      "Encrypted audio that failed authentication or did not fit the format (altered, "
      "reordered, truncated or spliced chunks, altered header, wrong key).");
}

DecryptingReader::DecryptingReader(ReadAtFn source, uint64_t stored_size,
                                   DecryptingReaderOptions options)
    : source_(std::move(source)),
      stored_size_(stored_size),
      options_(std::move(options)),
      keys_(std::make_unique<Keys>()) {}

DecryptingReader::~DecryptingReader() = default;

Status DecryptingReader::Failure(uint64_t index, std::string_view cause) const {
  if (options_.decrypt_failures != nullptr) options_.decrypt_failures->Inc();
  std::string what = "encrypted audio";
  if (!options_.name.empty()) what += " " + options_.name;
  return DataLossError(what + ": chunk " + std::to_string(index) + ": " + std::string(cause));
}

Result<std::unique_ptr<DecryptingReader>> DecryptingReader::Open(ReadAtFn source,
                                                                 uint64_t stored_size,
                                                                 const KeyLookupFn& keys,
                                                                 DecryptingReaderOptions options) {
  std::unique_ptr<DecryptingReader> r(
      new DecryptingReader(std::move(source), stored_size, std::move(options)));
  const std::string what =
      "encrypted audio" + (r->options_.name.empty() ? "" : " " + r->options_.name);
  auto bad = [&](const Status& s) {
    if (r->options_.decrypt_failures != nullptr) r->options_.decrypt_failures->Inc();
    return s.Annotate(what);
  };
  // The header: at most kMaxHeaderSize bytes, fewer when the file is shorter.
  std::string head(std::min<uint64_t>(stored_size, kMaxHeaderSize), '\0');
  CV_ASSIGN_OR_RETURN(size_t got, r->source_(0, head.size(), head.data()));
  head.resize(got);
  Result<EncryptedFileHeader> header = ParseEncryptedHeader(head);
  if (!header.ok()) return bad(header.status());
  r->header_ = std::move(header).value();
  r->header_size_ = r->header_.size();
  const std::string header_bytes = head.substr(0, r->header_size_);
  Result<uint64_t> plain = PlaintextSize(stored_size, r->header_size_);
  if (!plain.ok()) return bad(plain.status());
  r->plaintext_size_ = *plain;
  r->last_chunk_ = r->plaintext_size_ / kChunkSize;

  Result<TenantKey> tenant_key = keys(r->header_.key_id);
  if (!tenant_key.ok()) {
    return tenant_key.status().Annotate(what + ": looking up tenant key " + r->header_.key_id);
  }
  if (tenant_key->tenant != r->header_.tenant) {
    return bad(DataLossError("the header names tenant \"" + r->header_.tenant + "\" but key " +
                             r->header_.key_id + " belongs to another tenant"));
  }
  Status unwrap = internal::GcmOpen(
      tenant_key->key, r->header_.wrap_nonce.data(),
      std::string_view(header_bytes).substr(0, r->header_.wrap_aad_size()),
      std::string_view(reinterpret_cast<const char*>(r->header_.wrapped_data_key.data()),
                       kWrappedKeySize),
      r->header_.wrap_tag.data(), reinterpret_cast<char*>(r->keys_->data_key.mutable_data()));
  if (!unwrap.ok()) {
    r->keys_->data_key = SecretKey();
    return bad(DataLossError("unwrapping the data key: " + std::string(unwrap.message()) +
                             " (wrong tenant key or altered header)"));
  }
  r->keys_->header_sha256 = internal::Sha256(header_bytes);
  if (r->options_.verify_final_chunk) {
    CV_RETURN_IF_ERROR(r->Chunk(r->last_chunk_));  // also fills the cache
  }
  return r;
}

size_t DecryptingReader::ChunkPlainSize(uint64_t index) const {
  return index == last_chunk_ ? static_cast<size_t>(plaintext_size_ - index * kChunkSize)
                              : kChunkSize;
}

uint64_t DecryptingReader::ChunkOffset(uint64_t index) const {
  return header_size_ + index * kStoredChunkSize;
}

Result<std::shared_ptr<const std::string>> DecryptingReader::Chunk(uint64_t index) const {
  {
    MutexLock lock(&mu_);
    if (cached_ != nullptr && cached_index_ == index) return cached_;
  }
  std::string stored(ChunkPlainSize(index) + kTagSize, '\0');
  Result<size_t> got = source_(ChunkOffset(index), stored.size(), stored.data());
  if (!got.ok()) {
    return got.status().Annotate("reading encrypted audio chunk " + std::to_string(index));
  }
  if (*got != stored.size()) return Failure(index, "truncated (the object shrank)");
  return Decrypt(index, stored);
}

Result<std::shared_ptr<const std::string>> DecryptingReader::Decrypt(
    uint64_t index, std::string_view stored) const {
  const bool final = index == last_chunk_;
  const size_t plain_len = ChunkPlainSize(index);
  auto plain = std::make_shared<std::string>(plain_len, '\0');
  const auto nonce = ChunkNonce(header_.nonce_prefix, index);
  Status s =
      internal::GcmOpen(keys_->data_key, nonce.data(), ChunkAad(keys_->header_sha256, index, final),
                        stored.substr(0, plain_len),
                        reinterpret_cast<const uint8_t*>(stored.data()) + plain_len, plain->data());
  if (!s.ok()) {
    Wipe(plain.get());  // unauthenticated bytes never leave this function
    if (s.code() != StatusCode::kDataLoss) return s;
    return Failure(index, final ? "authentication failed (altered, moved, or not the final "
                                  "chunk: truncated?)"
                                : "authentication failed (altered, moved or spliced chunk)");
  }
  MutexLock lock(&mu_);
  cached_index_ = index;
  cached_ = plain;
  return std::shared_ptr<const std::string>(std::move(plain));
}

Result<size_t> DecryptingReader::Read(uint64_t offset, size_t n, char* buf) const {
  if (offset >= plaintext_size_ || n == 0) return size_t{0};
  const uint64_t end = offset + std::min<uint64_t>(n, plaintext_size_ - offset);  // no overflow
  size_t done = 0;
  auto copy_out = [&](const std::string& chunk, uint64_t index, uint64_t* pos) {
    const size_t in_chunk = static_cast<size_t>(*pos - index * kChunkSize);
    const size_t take =
        static_cast<size_t>(std::min<uint64_t>(end - *pos, chunk.size() - in_chunk));
    std::memcpy(buf + done, chunk.data() + in_chunk, take);
    done += take;
    *pos += take;
  };
  std::string stored;
  for (uint64_t pos = offset; pos < end;) {
    const uint64_t first = pos / kChunkSize;
    const uint64_t last =
        std::min<uint64_t>((end - 1) / kChunkSize, first + kChunksPerSourceRead - 1);
    if (first == last) {  // one chunk: maybe cached
      CV_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> chunk, Chunk(first));
      copy_out(*chunk, first, &pos);
      continue;
    }
    // A run of chunks: one source read for all of them, then each is authenticated in turn.
    const uint64_t run_end = ChunkOffset(last) + ChunkPlainSize(last) + kTagSize;
    stored.resize(static_cast<size_t>(run_end - ChunkOffset(first)));
    Result<size_t> got = source_(ChunkOffset(first), stored.size(), stored.data());
    if (!got.ok()) {
      return got.status().Annotate("reading encrypted audio chunks " + std::to_string(first) +
                                   ".." + std::to_string(last));
    }
    for (uint64_t index = first; index <= last; ++index) {
      const size_t at = static_cast<size_t>(ChunkOffset(index) - ChunkOffset(first));
      const size_t len = ChunkPlainSize(index) + kTagSize;
      if (*got < at + len) return Failure(index, "truncated (the object shrank)");
      CV_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> chunk,
                          Decrypt(index, std::string_view(stored).substr(at, len)));
      copy_out(*chunk, index, &pos);
    }
  }
  return done;
}

}  // namespace callvault::crypto
