// Which calls' audio is encrypted at rest, and under which tenant key: the finalizer asks an
// AudioKeyFn for the key of the call's tenant before it claims a file name (the encrypted file
// is named "<name>.<ext>.cvenc", audio_writer.h kEncryptedFileSuffix).
//
// The policy is a list of tenants (config `encryption.tenants`): "*" = every call, "" = calls
// without a tenant. Calls without a tenant use the key-store tenant kNoTenantKeyName (the key
// store and the encrypted header need a non-empty tenant name).
//
// Who calls it: app/ (builds the AudioKeyFn over its crypto::KeyStore), recording/finalizer.cc,
// tests. Thread-safety: pure functions; AudioKeyFor is as thread-safe as the KeyStore (it is).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/key_store.h"
#include "crypto/tenant_key.h"

namespace callvault::recording {

// nullopt: the call is not encrypted. A key: encrypt under it. An error: the call must be
// encrypted but no key can be had now (the finalize fails and is retried; no plaintext is
// written).
using AudioKeyFn =
    std::function<Result<std::optional<crypto::TenantKey>>(std::string_view call_tenant)>;

// The key-store tenant of calls without a tenant (`encryption.tenants = [""]`). Reserved: a
// catalog tenant must not be named this.
inline constexpr std::string_view kNoTenantKeyName = "(no tenant)";

// The key-store tenant name of a call's tenant: itself, or kNoTenantKeyName for "".
std::string KeyTenantOf(std::string_view call_tenant);

// True when `tenants` covers `call_tenant`: it is listed, or "*" is.
bool TenantEncrypted(const std::vector<std::string>& tenants, std::string_view call_tenant);

// The policy over a key store: nullopt when `tenants` does not cover the call; else the
// tenant's active key, made on first use. Unavailable when the call must be encrypted and
// `store` is null; the store's errors (annotated) when the key cannot be read or made.
Result<std::optional<crypto::TenantKey>> AudioKeyFor(crypto::KeyStore* store,
                                                     const std::vector<std::string>& tenants,
                                                     std::string_view call_tenant);

}  // namespace callvault::recording
