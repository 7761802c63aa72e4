// TieredRecordingStore: the one RecordingStore the rest of the node sees when recordings move
// to a remote store (S3) after finalizing: each call goes to the store its `ref.location` names
// — "" or "local:…" the node's LocalRecordingStore, anything else (s3://…) the remote one — so
// http/ plays and deletes a recording the same way before and after it moves.
//
//   OpenAudio  the store `location` names; a local recording whose file is gone (relocated
//              while the catalog row was read) is looked for in the remote store too.
//   Delete     a remote recording: the object, then the local manifest and any local leftover
//              (relocation keeps the manifest); a local one: the local store only.
//   Locate     as OpenAudio.
//   Recover    both.
//
// Who calls it: app/ (builds it over the two stores), http/ and storage::Purger through
// RecordingStore. Thread-safety: as thread-safe as the two stores (both are).
#pragma once

#include "storage/recording_store.h"

namespace callvault::storage {

class TieredRecordingStore final : public RecordingStore {
 public:
  // REQUIRES: both outlive this store; `remote` may be null (then it is the local store).
  TieredRecordingStore(RecordingStore* local, RecordingStore* remote)
      : local_(local), remote_(remote) {}

  Result<std::unique_ptr<AudioReader>> OpenAudio(const RecordingRef& ref) override;
  Status Delete(const RecordingRef& ref) override;
  Result<std::string> Locate(const RecordingRef& ref) override;
  Status Recover() override;

  // Whether `location` names the local store ("" or "local:…").
  static bool IsLocal(const std::string& location);

 private:
  static RecordingRef AsLocal(const RecordingRef& ref);

  RecordingStore* const local_;
  RecordingStore* const remote_;
};

}  // namespace callvault::storage
