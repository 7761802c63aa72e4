// The node's master key: the key-encryption key that wraps every tenant key in the key store
// (key_store.h). It is read from a file that must lie outside the data directory (so a copy of
// the data directory, a backup or a bucket never holds it) and must not be accessible to
// group/other.
//
// File format (docs/formats/encrypted-audio.md §Master key): either exactly 32 raw bytes, or
// 64 hex digits (upper or lower case) optionally followed by one "\n" or "\r\n". Make one with
//   umask 077; openssl rand -hex 32 > /etc/callvault/master.key
//
// Who calls it: app/ at start-up (and `callvault tenant-key ...`), then passes it to KeyStore.
// Thread-safety: a value.
#pragma once

#include <string>

#include "base/fs.h"
#include "base/status.h"
#include "crypto/secret_key.h"

namespace callvault::crypto {

struct MasterKey {
  SecretKey key;
  std::string path;  // where it was read from (for messages; never the key itself)
};

// Reads the master key from `path`. Errors:
//   PermissionDenied — the file's mode has any group/other bit (e.g. 0644): "master key file
//     /k has mode 0644: it must not be accessible to group or other (chmod 600 /k)";
//   PermissionDenied — `path` lies inside `data_dir` (after resolving symlinks and "..", as far
//     as they exist): "master key file ... lies inside the data directory ...";
//   NotFound / IoError — reading it (from Fs);
//   InvalidArgument — neither 32 raw bytes nor 64 hex digits (the content is not quoted).
// `data_dir` may not exist yet. Reads through `fs` (FileMode, ReadFile); the read buffer is
// wiped before returning.
Result<MasterKey> LoadMasterKey(Fs& fs, const std::string& path, const std::string& data_dir);

}  // namespace callvault::crypto
