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

std::string CleanText(std::string_view text) {
  bool plain = true;
  for (unsigned char c : text) {
    if (c == 0 || c >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(text);
  // nlohmann's writer is the one that also writes the change bodies: replacing as it does keeps
  // the text a peer reads from a body equal to the text hashed here.
  const std::string quoted = nlohmann::json(std::string(text))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out = nlohmann::json::parse(quoted).get<std::string>();
  std::string clean;
  clean.reserve(out.size());
  for (char c : out) {
    if (c == '\0') {
      clean += "\xEF\xBF\xBD";
    } else {
      clean += c;
    }
  }
  return clean;
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
