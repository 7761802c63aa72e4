// DecryptingReader: random access to the plaintext of an encrypted audio file
// (docs/formats/encrypted-audio.md) over any source of its stored bytes — a local file
// (SourceOf(RandomAccessFile*)) or a bucket object read with ranged GETs.
//
// Open() reads and checks the header, looks the tenant key up by the header's key id, unwraps
// the file's data key and authenticates the final chunk (so a file cut at a chunk boundary is
// refused before anything is served and plaintext_size() can be trusted for Content-Length).
// Read() maps a plaintext range to the chunks that cover it, reads only those (one source call
// per run of up to kChunksPerSourceRead chunks: over a bucket, one ranged GET per MiB), and
// authenticates each (tag over the chunk's index and final flag and the header's hash) before
// copying a single byte of it out. Any failure is DataLoss "encrypted audio <what>: chunk <i>:
// <cause>"; bytes of chunks before a bad one stay readable, no byte of a bad chunk is ever
// returned. Each such failure increments the optional decrypt-failure counter
// (callvault_decrypt_failures_total, registered by the owner — see RegisterDecryptMetrics).
//
// Who calls it: http/ (playback and Range), storage/ (relocation checks), tests, bench.
// Thread-safety: Read() may be called from several threads at once (the source function must
// allow that too, as RandomAccessFile does); a one-chunk cache is shared under a mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "crypto/encrypted_file_format.h"
#include "crypto/tenant_key.h"

namespace callvault::crypto {

// Reads up to `len` stored bytes at `offset` into `buf` and returns how many were read (fewer
// only at the end of the object).
using ReadAtFn = std::function<Result<size_t>(uint64_t offset, size_t len, char* buf)>;

// Read() fetches at most this many consecutive stored chunks (1 MiB of plaintext) per source call.
inline constexpr size_t kChunksPerSourceRead = 16;

// A ReadAtFn over `file`. REQUIRES: `file` outlives the function.
ReadAtFn SourceOf(const RandomAccessFile* file);

// The decrypt-failure counter: callvault_decrypt_failures_total (authentication or format
// failures of encrypted audio; not I/O errors, not missing or destroyed keys).
Result<Counter*> RegisterDecryptMetrics(Registry& registry);

struct DecryptingReaderOptions {
  // Incremented once per failed Open() or Read() caused by bad stored bytes. May be null.
  Counter* decrypt_failures = nullptr;
  // Authenticate the final chunk in Open() (detects truncation up front). Default: true.
  bool verify_final_chunk = true;
  // For messages: what is being read ("/data/recordings/…", "s3://bucket/key"). Default: "".
  std::string name;
};

class DecryptingReader {
 public:
  // Errors: the source's errors (annotated); DataLoss for a bad header, a stored size that does
  // not fit the format (truncated), a data key that does not unwrap (wrong tenant key or
  // altered header), a tenant key whose tenant is not the header's, a bad final chunk; the key
  // lookup's NotFound / FailedPrecondition ("destroyed") unchanged but annotated.
  // REQUIRES: the source stays usable for the reader's life.
  static Result<std::unique_ptr<DecryptingReader>> Open(ReadAtFn source, uint64_t stored_size,
                                                        const KeyLookupFn& keys,
                                                        DecryptingReaderOptions options = {});
  ~DecryptingReader();

  uint64_t plaintext_size() const { return plaintext_size_; }
  uint64_t stored_size() const { return stored_size_; }
  const std::string& tenant() const { return header_.tenant; }
  const std::string& key_id() const { return header_.key_id; }

  // Reads up to `n` plaintext bytes at `offset` into `buf` (which holds `n` bytes) and returns
  // how many: `n`, or fewer only at the end (0 at or past it). On error `buf` may hold the
  // bytes of the good chunks before the bad one, never a byte of the bad chunk.
  Result<size_t> Read(uint64_t offset, size_t n, char* buf) const EXCLUDES(mu_);

 private:
  struct Keys;
  DecryptingReader(ReadAtFn source, uint64_t stored_size, DecryptingReaderOptions options);
  // The authenticated plaintext of chunk `index`, from the cache or the source.
  Result<std::shared_ptr<const std::string>> Chunk(uint64_t index) const EXCLUDES(mu_);
  // Plaintext bytes of chunk `index` (the final one is shorter) and its stored offset.
  size_t ChunkPlainSize(uint64_t index) const;
  uint64_t ChunkOffset(uint64_t index) const;
  // Authenticates and decrypts chunk `index` from its stored bytes; caches it.
  Result<std::shared_ptr<const std::string>> Decrypt(uint64_t index, std::string_view stored) const
      EXCLUDES(mu_);
  Status Failure(uint64_t index, std::string_view cause) const;

  const ReadAtFn source_;
  const uint64_t stored_size_;
  const DecryptingReaderOptions options_;
  EncryptedFileHeader header_;
  size_t header_size_ = 0;
  uint64_t plaintext_size_ = 0;
  uint64_t last_chunk_ = 0;  // index of the final chunk
  std::unique_ptr<Keys> keys_;

  mutable Mutex mu_;
  mutable uint64_t cached_index_ GUARDED_BY(mu_) = 0;
  mutable std::shared_ptr<const std::string> cached_ GUARDED_BY(mu_);
};

}  // namespace callvault::crypto
