#include "catalog/internal/audit_chain.h"

#include "crypto/sha256.h"

namespace callvault::catalog::internal {
namespace {

void Field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

}  // namespace

std::string LocalChain(std::string_view node) {
  return std::string(node) + std::string(kLocalChainSuffix);
}

bool IsLocalChain(std::string_view origin) {
  return origin.size() > kLocalChainSuffix.size() && origin.ends_with(kLocalChainSuffix);
}

std::string DetailText(const nlohmann::json& detail) {
  if (!detail.is_object()) return "{}";
  return detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Canonical(const AuditEntry& e, std::string_view detail_text) {
  std::string out;
  out.reserve(256 + detail_text.size() + e.actor.size() + e.target.size());
  out += kCanonicalTag;
  out += '\n';
  Field(out, e.origin);
  Field(out, std::to_string(e.seq));
  Field(out, e.uid);
  Field(out, std::to_string(e.at_ms));
  Field(out, e.actor);
  Field(out, e.action);
  Field(out, e.target);
  Field(out, e.tenant);
  Field(out, detail_text);
  Field(out, e.remote);
  return out;
}

std::string ChainHash(std::string_view prev_hash, const AuditEntry& entry,
                      std::string_view detail_text) {
  crypto::Sha256 sha;
  sha.Update(prev_hash);
  sha.Update(Canonical(entry, detail_text));
  return sha.HexDigest();
}

}  // namespace callvault::catalog::internal
