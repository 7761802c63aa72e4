#include "recording/audio_key.h"

#include <algorithm>

namespace callvault::recording {

std::string KeyTenantOf(std::string_view call_tenant) {
  return std::string(call_tenant.empty() ? kNoTenantKeyName : call_tenant);
}

bool TenantEncrypted(const std::vector<std::string>& tenants, std::string_view call_tenant) {
  return std::any_of(tenants.begin(), tenants.end(),
                     [&](const std::string& t) { return t == "*" || t == call_tenant; });
}

Result<std::optional<crypto::TenantKey>> AudioKeyFor(crypto::KeyStore* store,
                                                     const std::vector<std::string>& tenants,
                                                     std::string_view call_tenant) {
  if (!TenantEncrypted(tenants, call_tenant)) return std::optional<crypto::TenantKey>();
  const std::string tenant = KeyTenantOf(call_tenant);
  if (store == nullptr) {
    return UnavailableError("tenant " + tenant +
                            " must be encrypted but no key store is open on this node");
  }
  Result<crypto::TenantKey> key = store->ActiveKey(tenant, /*create_if_missing=*/true);
  if (!key.ok()) return key.status().Annotate("tenant key of " + tenant);
  return std::optional<crypto::TenantKey>(std::move(key).value());
}

}  // namespace callvault::recording
