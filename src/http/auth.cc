#include "http/auth.h"

#include <sodium.h>

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"
#include "http/cookie.h"

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

// 32 random bytes as base64url without padding (43 characters): API token secrets, session
// cookies, CSRF tokens.
std::string RandomSecret() {
  InitSodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof(raw));
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof(raw));
  return b64;
}

NewApiToken GenerateApiToken() {
  NewApiToken token;
  token.secret = std::string(kTokenPrefix) + RandomSecret();
  token.hash = TokenHash(token.secret);
  return token;
}

std::string TokenHash(std::string_view secret) {
  InitSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return Hex(digest, sizeof(digest));
}

std::string CredentialFingerprint(std::string_view password_hash) {
  return TokenHash(password_hash).substr(0, 32);
}

bool Principal::Can(std::string_view permission) const {
  return std::find(permissions.begin(), permissions.end(), permission) != permissions.end();
}

Authenticator::Authenticator(catalog::Catalog* catalog, const Clock* clock, AuthOptions options)
    : catalog_(catalog),
      clock_(clock),
      options_(options),
      cookie_name_(SessionCookieName(options.secure_cookie)),
      throttle_(options.throttle) {
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

Result<Principal> Authenticator::Authenticate(const AuthRequest& request,
                                              std::chrono::seconds* retry_after) {
  std::string_view authorization = Trim(request.authorization);
  if (authorization.empty()) {
    if (!request.cookie.empty()) return Session(request.cookie);
    return UnauthenticatedError("no Authorization header");
  }
  size_t space = authorization.find(' ');
  if (space == std::string_view::npos) return UnauthenticatedError("malformed Authorization");
  std::string_view scheme = authorization.substr(0, space);
  std::string_view credentials = Trim(authorization.substr(space + 1));
  if (EqualsIgnoreCase(scheme, "Bearer")) return Bearer(credentials, request.remote);
  if (EqualsIgnoreCase(scheme, "Basic")) return Basic(credentials, request.remote, retry_after);
  return UnauthenticatedError("unsupported Authorization scheme");
}

Result<Principal> Authenticator::Basic(std::string_view credentials, std::string_view remote,
                                       std::chrono::seconds* retry_after) {
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
  return LoginAs(username, password, remote, retry_after, "basic");
}

Result<Principal> Authenticator::Login(std::string_view username, std::string_view password,
                                       std::string_view remote, std::chrono::seconds* retry_after) {
  return LoginAs(username, password, remote, retry_after, "portal");
}

Result<Principal> Authenticator::LoginAs(std::string_view username_in, std::string_view password_in,
                                         std::string_view remote, std::chrono::seconds* retry_after,
                                         std::string_view method) {
  const auto now = clock_->Now();
  const std::chrono::seconds wait = throttle_.Check(username_in, remote, now);
  if (wait.count() > 0) {
    if (retry_after) *retry_after = wait;
    return ResourceExhaustedError("login locked after repeated failures for " +
                                  std::to_string(wait.count()) + " s");
  }
  std::string username(username_in.substr(0, 256));
  std::string password(password_in);
  std::optional<catalog::User> known;
  Result<catalog::User> user = CheckPassword(username, password, &known);
  sodium_memzero(password.data(), password.size());
  const std::string tenant = known ? known->tenant : "";
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kUnauthenticated) {
      const LoginThrottle::Locked locked = throttle_.Failed(username_in, remote, now);
      Audit("login.failed", username, tenant,
            {{"method", method}, {"reason", user.status().message()}}, remote)
          .IgnoreError();
      if (locked.any()) {
        Audit("login.locked", username, tenant,
              {{"method", method},
               {"user_locked_s", locked.user.count()},
               {"address_locked_s", locked.address.count()}},
              remote)
            .IgnoreError();
      }
    }
    return user.status();
  }
  throttle_.Succeeded(username, now);
  if (method == "basic") {
    AuditOnce("login.basic\n" + username + "\n" + std::string(remote), "login.basic", username,
              tenant, {{"method", method}}, remote);
  }
  return ForUser(std::move(user).value(), "basic", 0);
}

Status Authenticator::Audit(std::string action, const std::string& user, const std::string& tenant,
                            nlohmann::json detail, std::string_view remote) {
  catalog::AuditEntry e;
  e.at_ms = WallMs(*clock_);
  e.actor = user;
  e.action = std::move(action);
  e.target = user;
  e.tenant = tenant;
  e.detail = std::move(detail);
  e.remote = std::string(remote);
  Result<int64_t> id = catalog_->AppendAudit(e);
  if (!id.ok()) {
    CV_LOG_WARN("http.audit_failed", "action={} user=\"{}\" status=\"{}\"", e.action,
                user.substr(0, 64), id.status().ToString());
  }
  return id.status();
}

void Authenticator::AuditOnce(const std::string& key, std::string action, const std::string& user,
                              const std::string& tenant, nlohmann::json detail,
                              std::string_view remote) {
  const auto now = clock_->Now();
  if (!audit_dedupe_.Claim(key, now)) return;
  if (!Audit(std::move(action), user, tenant, std::move(detail), remote).ok()) {
    audit_dedupe_.Release(key, now);
  }
}

Result<catalog::User> Authenticator::CheckPassword(const std::string& username,
                                                   std::string& password,
                                                   std::optional<catalog::User>* known) {
  Result<catalog::User> user = catalog_->GetUser(username);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) return user.status();
    VerifyBounded(dummy_hash_, password);  // same work as for a real user
    return UnauthenticatedError("unknown user");
  }
  *known = *user;
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
  if (user->disabled) return UnauthenticatedError("user disabled");
  return user;
}

Result<Principal> Authenticator::Session(std::string_view cookie_header) {
  Result<Cookies> cookies = ParseCookieHeader(cookie_header);
  if (!cookies.ok()) return UnauthenticatedError("malformed Cookie header");
  std::optional<std::string> value = FindCookie(*cookies, cookie_name_);
  if (!value) return UnauthenticatedError("no Authorization header or session cookie");
  if (value->size() != 43) return UnauthenticatedError("not a session cookie");
  const std::string hash = TokenHash(*value);
  Result<catalog::WebSession> session = catalog_->GetSession(hash);
  if (!session.ok()) {
    if (session.status().code() == StatusCode::kNotFound) {
      return UnauthenticatedError("unknown or ended session");
    }
    return session.status();
  }
  const int64_t now_ms = WallMs(*clock_);
  const int64_t idle_ms = options_.session_idle_timeout.count() * 1000;
  std::string over;
  if (session->expires_ms <= now_ms) {
    over = "session expired";
  } else if (now_ms - session->last_seen_ms > idle_ms) {
    over = "session idle too long";
  }
  Result<catalog::User> user = NotFoundError("");
  if (over.empty()) {
    user = catalog_->GetUserById(session->user_id);
    if (!user.ok()) {
      if (user.status().code() != StatusCode::kNotFound) return user.status();
      over = "session of a deleted user";
    } else if (user->disabled) {
      over = "session of a disabled user";
    } else if (CredentialFingerprint(user->password_hash) != session->credential) {
      over = "session from before a password change";
    }
  }
  if (!over.empty()) {
    Status ended = catalog_->DeleteSession(hash);
    if (!ended.ok()) {
      CV_LOG_WARN("http.session_end_failed", "status=\"{}\"", ended.ToString());
    }
    return UnauthenticatedError(over);
  }
  if (now_ms - session->last_seen_ms >= kTouchIntervalMs) {
    Status touched = catalog_->TouchSession(hash, now_ms);
    if (!touched.ok()) {
      CV_LOG_WARN("http.session_touch_failed", "status=\"{}\"", touched.ToString());
    }
  }
  CV_ASSIGN_OR_RETURN(Principal p, ForUser(std::move(user).value(), "session", 0));
  p.session_hash = hash;
  p.csrf_token = session->csrf_token;
  p.session_expires_ms = session->expires_ms;
  return p;
}

Result<NewSession> Authenticator::StartSession(Principal principal, std::string_view remote,
                                               std::string_view user_agent) {
  CV_ASSIGN_OR_RETURN(catalog::User user, catalog_->GetUserById(principal.user.id));
  NewSession out;
  out.cookie_value = RandomSecret();
  catalog::WebSession row;
  row.id_hash = TokenHash(out.cookie_value);
  row.user_id = user.id;
  row.csrf_token = RandomSecret();
  row.credential = CredentialFingerprint(user.password_hash);
  row.created_ms = row.last_seen_ms = WallMs(*clock_);
  row.expires_ms = row.created_ms + options_.session_max_age.count() * 1000;
  row.remote = std::string(remote.substr(0, 256));
  row.user_agent = std::string(user_agent.substr(0, 512));
  CV_RETURN_IF_ERROR(catalog_->CreateSession(row));
  principal.method = "session";
  principal.session_hash = row.id_hash;
  principal.csrf_token = row.csrf_token;
  principal.session_expires_ms = row.expires_ms;
  out.principal = std::move(principal);
  return out;
}

Status Authenticator::EndSession(const Principal& principal) {
  if (principal.method != "session" || principal.session_hash.empty()) return Status::Ok();
  return catalog_->DeleteSession(principal.session_hash);
}

Result<Principal> Authenticator::Bearer(std::string_view token, std::string_view remote) {
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
  Result<catalog::User> user = catalog_->GetUserById(found->user_id);
  if (!user.ok() && user.status().code() != StatusCode::kNotFound) return user.status();
  const std::string username = user.ok() ? user->username : "";
  const std::string tenant = user.ok() ? user->tenant : "";
  std::string refused;
  if (found->expires_ms && *found->expires_ms <= now_ms) {
    refused = "token expired";
  } else if (!user.ok()) {
    refused = "token of a deleted user";
  } else if (user->disabled) {
    refused = "user disabled";
  }
  if (!refused.empty()) {
    AuditOnce("token.refused\n" + found->api_id, "token.refused", username, tenant,
              {{"token_id", found->api_id}, {"name", found->name}, {"reason", refused}}, remote);
    return UnauthenticatedError(refused);
  }
  if (!found->last_used_ms || now_ms - *found->last_used_ms >= kTouchIntervalMs) {
    Status touched = catalog_->TouchToken(found->id, now_ms);
    if (!touched.ok()) {
      CV_LOG_WARN("http.token_touch_failed", "token={} status=\"{}\"", found->id,
                  touched.ToString());
    }
  }
  AuditOnce("token.use\n" + found->api_id, "token.use", username, tenant,
            {{"token_id", found->api_id}, {"name", found->name}}, remote);
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
