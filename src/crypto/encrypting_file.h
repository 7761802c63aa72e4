// EncryptingFile: an AppendableFile that encrypts what is appended to it into another
// AppendableFile, in the encrypted audio format (docs/formats/encrypted-audio.md,
// encrypted_file_format.h): header first, then one AES-256-GCM chunk per 64 KiB of plaintext,
// and at Close() the final chunk (0..65535 bytes, flagged final). Each file gets its own random
// data key, wrapped by the tenant key in the header.
//
//   CV_ASSIGN_OR_RETURN(auto raw, fs.NewWritableFile(tmp));
//   CV_ASSIGN_OR_RETURN(auto file, EncryptingFile::Create(std::move(raw), tenant_key));
//   ... file->Append(bytes) ...; file->Sync(); file->Close();
//   manifest: file->size() plaintext bytes; file->stored_size(), file->stored_sha256()
//
// Durability: Flush()/Sync() hand on the complete chunks only; up to 64 KiB of plaintext stay in
// memory until the chunk fills or Close(). A file that was never closed (crash, error) has no
// final chunk: readers report it as truncated — never as a shorter valid file. Callers write to a
// temp name and rename after Close() + Sync of the directory, as for plain audio.
//
// Who calls it: recording/ (the finalizer, when the call's tenant has a key), tests, bench.
// Thread-safety: as AppendableFile — one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/status.h"
#include "crypto/encrypted_file_format.h"
#include "crypto/tenant_key.h"

namespace callvault::crypto {

class EncryptingFile final : public AppendableFile {
 public:
  // Makes a data key, wraps it with `tenant_key` and appends the header to `inner` (buffered).
  // REQUIRES: inner is empty (inner->size() == 0; else FailedPrecondition). InvalidArgument
  // for a tenant or key id the header cannot hold; Internal if the CSPRNG fails.
  static Result<std::unique_ptr<EncryptingFile>> Create(std::unique_ptr<AppendableFile> inner,
                                                        const TenantKey& tenant_key);
  ~EncryptingFile() override;

  // Buffers `data`; every full 64 KiB chunk is encrypted and appended to the inner file. After a
  // failed inner write the file is broken: every later call but Close() fails.
  [[nodiscard]] Status Append(std::string_view data) override;
  // Flush()/Sync() of the inner file after the complete chunks (not the partial one).
  [[nodiscard]] Status Flush() override;
  [[nodiscard]] Status Sync() override;
  // Encrypts and appends the final chunk, then closes the inner file. If Sync() was called on
  // this file before, the inner file is Sync()ed after the final chunk too, so the generic
  // durable sequence for an AppendableFile (Append…, Sync, Close, rename, SyncDir — as in
  // recording/audio_writer.cc) stays durable with the final chunk included; otherwise the inner
  // Close() only flushes.
  [[nodiscard]] Status Close() override;
  // Encrypts and appends the final chunk, Sync()s and closes the inner file: the durable end of
  // an encrypted file (then rename it into place and sync the directory).
  [[nodiscard]] Status FinishAndSync();

  // Plaintext bytes appended (the AppendableFile contract: what the caller wrote).
  uint64_t size() const override { return plaintext_size_; }
  const std::string& path() const override { return inner_->path(); }

  // Bytes handed to the inner file so far (after a successful Close(): the file's size, equal
  // to StoredSize(size(), header size)).
  uint64_t stored_size() const { return stored_size_; }
  // Lowercase hex SHA-256 of the stored bytes (what is on disk and uploaded to a bucket): set by
  // a successful Close()/FinishAndSync(), empty before.
  const std::string& stored_sha256() const { return stored_sha256_; }
  const std::string& key_id() const { return key_id_; }

 private:
  struct State;
  explicit EncryptingFile(std::unique_ptr<AppendableFile> inner);
  Status EncryptChunk(std::string_view plaintext, bool final);
  Status WriteStored(std::string_view bytes);
  Status Finish();
  Status Usable(std::string_view what) const;

  std::unique_ptr<AppendableFile> inner_;
  std::unique_ptr<State> state_;  // keys, hashes, OpenSSL contexts
  std::string key_id_;
  std::string pending_;  // plaintext of the current (incomplete) chunk, < kChunkSize bytes
  std::string sealed_;   // scratch: one stored chunk
  uint64_t chunk_index_ = 0;
  uint64_t plaintext_size_ = 0;
  uint64_t stored_size_ = 0;
  std::string stored_sha256_;
  bool broken_ = false;
  bool closed_ = false;
  bool sync_requested_ = false;  // Sync() was called: Close() syncs after the final chunk
};

}  // namespace callvault::crypto
