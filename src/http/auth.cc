#include "http/auth.h"

#include <sodium.h>

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"

namespace callvault::http {
namespace {

constexpr size_t kMaxCacheEntries = 10000;
constexpr std::chrono::seconds kRolesTtl{30};
constexpr int64_t kTouchIntervalMs = 60000;

void InitSodium() {
  static const bool ok = sodium_init() >= 0;
  CV_CHECK_MSG(ok, "sodium_init failed");
}

std::string Hex(const unsigned char* data, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

int64_t WallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow().time_since_epoch())
      .count();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  InitSodium();
  if (password.size() < kMinPasswordLength) {
    return InvalidArgumentError("password: at least 8 characters");
  }
  if (password.size() > kMaxPasswordLength) {
    return InvalidArgumentError("password: at most 1024 bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return ResourceExhaustedError("hashing password: out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  InitSodium();
  if (hash.size() >= crypto_pwhash_STRBYTES || password.size() > kMaxPasswordLength) return false;
  char stored[crypto_pwhash_STRBYTES] = {};
  std::copy(hash.begin(), hash.end(), stored);
  return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

NewApiToken GenerateApiToken() {
  InitSodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof(raw));
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof(raw));
  NewApiToken token;
  token.secret = std::string(kTokenPrefix) + b64;
  token.hash = TokenHash(token.secret);
  return token;
}

std::string TokenHash(std::string_view secret) {
  InitSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return Hex(digest, sizeof(digest));
}

bool Principal::Can(std::string_view permission) const {
  return std::find(permissions.begin(), permissions.end(), permission) != permissions.end();
}

Authenticator::Authenticator(catalog::Catalog* catalog, const Clock* clock, AuthOptions options)
    : catalog_(catalog), clock_(clock), options_(options) {
  InitSodium();
  randombytes_buf(cache_key_, sizeof(cache_key_));
  unsigned char random_password[16];
  randombytes_buf(random_password, sizeof(random_password));
  Result<std::string> dummy = HashPassword(Hex(random_password, sizeof(random_password)));
  if (dummy.ok()) dummy_hash_ = std::move(dummy).value();
}

std::string Authenticator::CacheKey(std::string_view username, std::string_view password) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, cache_key_, sizeof(cache_key_), 32);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(username.data()),
                            username.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(password.data()),
                            password.size());
  unsigned char out[32];
  crypto_generichash_final(&state, out, sizeof(out));
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

bool Authenticator::VerifyBounded(std::string_view hash, std::string_view password) {
  {
    MutexLock lock(&mu_);
    while (verifying_ >= options_.max_concurrent_password_checks) mu_.Wait(verify_cv_);
    ++verifying_;
  }
  bool ok = VerifyPassword(hash, password);
  {
    MutexLock lock(&mu_);
    --verifying_;
  }
  verify_cv_.notify_one();
  return ok;
}

Result<Principal> Authenticator::Authenticate(std::string_view authorization) {
  authorization = Trim(authorization);
  if (authorization.empty()) return UnauthenticatedError("no Authorization header");
  size_t space = authorization.find(' ');
  if (space == std::string_view::npos) return UnauthenticatedError("malformed Authorization");
  std::string_view scheme = authorization.substr(0, space);
  std::string_view credentials = Trim(authorization.substr(space + 1));
  if (EqualsIgnoreCase(scheme, "Bearer")) return Bearer(credentials);
  if (EqualsIgnoreCase(scheme, "Basic")) return Basic(credentials);
  return UnauthenticatedError("unsupported Authorization scheme");
}

Result<Principal> Authenticator::Basic(std::string_view credentials) {
  if (credentials.size() > 2048) return UnauthenticatedError("Basic credentials too long");
  std::string decoded(credentials.size(), '\0');
  size_t decoded_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        credentials.data(), credentials.size(), nullptr, &decoded_len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return UnauthenticatedError("Basic credentials are not base64");
  }
  decoded.resize(decoded_len);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return UnauthenticatedError("Basic credentials without ':'");
  std::string username = decoded.substr(0, colon);
  std::string password = decoded.substr(colon + 1);
  sodium_memzero(decoded.data(), decoded.size());

  Result<catalog::User> user = catalog_->GetUser(username);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) return user.status();
    VerifyBounded(dummy_hash_, password);  // same work as for a real user
    return UnauthenticatedError("unknown user");
  }
  const std::string key = options_.cache_ttl.count() > 0 ? CacheKey(username, password) : "";
  bool cached = false;
  const auto now = clock_->Now();
  if (!key.empty()) {
    MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (it->second.expires > now && it->second.password_hash == user->password_hash) {
        cached = true;
      } else {
        cache_.erase(it);
      }
    }
  }
  if (!cached) {
    if (!VerifyBounded(user->password_hash, password)) {
      return UnauthenticatedError("wrong password");
    }
    if (!key.empty()) {
      MutexLock lock(&mu_);
      if (cache_.size() >= kMaxCacheEntries) {
        std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires <= now; });
        if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      }
      cache_[key] = CacheEntry{user->password_hash, now + options_.cache_ttl};
    }
  }
  sodium_memzero(password.data(), password.size());
  if (user->disabled) return UnauthenticatedError("user disabled");
  return ForUser(std::move(user).value(), "basic", 0);
}

Result<Principal> Authenticator::Bearer(std::string_view token) {
  if (!token.starts_with(kTokenPrefix) || token.size() > 256) {
    return UnauthenticatedError("not a callvault token");
  }
  Result<catalog::ApiToken> found = catalog_->FindToken(TokenHash(token));
  if (!found.ok()) {
    if (found.status().code() == StatusCode::kNotFound) {
      return UnauthenticatedError("unknown token");
    }
    return found.status();
  }
  const int64_t now_ms = WallMs(*clock_);
  if (found->expires_ms && *found->expires_ms <= now_ms) {
    return UnauthenticatedError("token expired");
  }
  Result<catalog::User> user = catalog_->GetUserById(found->user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return UnauthenticatedError("token of a deleted user");
    }
    return user.status();
  }
  if (user->disabled) return UnauthenticatedError("user disabled");
  if (!found->last_used_ms || now_ms - *found->last_used_ms >= kTouchIntervalMs) {
    Status touched = catalog_->TouchToken(found->id, now_ms);
    if (!touched.ok()) {
      CV_LOG_WARN("http.token_touch_failed", "token={} status=\"{}\"", found->id,
                  touched.ToString());
    }
  }
  return ForUser(std::move(user).value(), "token", found->id);
}

Result<Principal> Authenticator::ForUser(catalog::User user, std::string method, int64_t token_id) {
  Principal p;
  user.password_hash.clear();
  p.method = std::move(method);
  p.token_id = token_id;
  const auto now = clock_->Now();
  bool fresh;
  {
    MutexLock lock(&mu_);
    fresh = now < roles_expire_ && !role_permissions_.empty();
    if (fresh) {
      auto it = role_permissions_.find(user.role);
      if (it != role_permissions_.end()) p.permissions = it->second;
    }
  }
  if (!fresh) {
    CV_ASSIGN_OR_RETURN(std::vector<catalog::Role> roles, catalog_->ListRoles());
    MutexLock lock(&mu_);
    role_permissions_.clear();
    for (catalog::Role& r : roles) role_permissions_[r.name] = std::move(r.permissions);
    roles_expire_ = now + kRolesTtl;
    auto it = role_permissions_.find(user.role);
    if (it != role_permissions_.end()) p.permissions = it->second;
  }
  p.user = std::move(user);
  return p;
}

}  // namespace callvault::http
