// TenantKey: one tenant's key-encryption key (it wraps the data key of each of the tenant's
// encrypted files), and the lookup function readers take so they do not depend on where keys
// live (key_store.h in a node; a test map in tests).
//
// Who calls it: key_store.h (makes them), encrypting_file.h (wraps with one),
// decrypting_reader.h (looks one up by the id in a file's header).
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secret_key.h"

namespace callvault::crypto {

struct TenantKey {
  std::string tenant;  // the catalog's tenant name (crypto/ treats it as opaque text)
  std::string key_id;  // unique among all keys ever made (a random UUID); written in headers
  SecretKey key;
  int64_t created_ms = 0;  // Unix milliseconds
};

// Returns the key with this id. Errors the reader passes on unchanged: NotFound (no such key),
// FailedPrecondition whose message contains "destroyed" (crypto-shredded: HTTP 410).
using KeyLookupFn = std::function<Result<TenantKey>(std::string_view key_id)>;

}  // namespace callvault::crypto
