// Auth: who is calling the REST API, and the credential helpers shared with the CLI.
//
// Passwords are stored as libsodium crypto_pwhash_str strings (Argon2id, opslimit/memlimit
// INTERACTIVE: 2 passes over 64 MiB, ~50–100 ms on a server core); verification reads the
// parameters from the stored string, so raising them later only affects new hashes.
// API tokens are 32 random bytes shown once as `cvt_<base64url, no padding>` (47 characters);
// only the lowercase hex SHA-256 of the whole string is stored (catalog ApiToken::token_hash).
//
// Authenticator takes the Authorization header of a request:
//   - `Bearer <token>`: looked up by its hash on every request; unknown, expired (expires_ms <=
//     now) or belonging to a disabled or deleted user → Unauthenticated. A deleted token stops
//     working at once. last_used_ms is written at most once a minute per token.
//   - `Basic <base64 user:password>`: the user row is read on every request (disabled → fails
//     at once); the Argon2id check is skipped when the same user:password verified against the
//     same stored hash within `cache_ttl` (cache keyed by a keyed BLAKE2b hash of user and
//     password with a per-process random key; a changed password or a disabled user therefore
//     takes effect at once, the TTL only bounds how long a verified secret is remembered).
//     Unknown users cost one Argon2id verification too, so timing does not reveal usernames.
//     At most `max_concurrent_password_checks` verifications run at once (64 MiB each).
//   - no Authorization but the session cookie (web portal, issue 16): the cookie's SHA-256 is
//     looked up in the catalog's web_sessions on every request. Over: past its absolute end
//     (`session_max_age`), idle longer than `session_idle_timeout` (last use is written at most
//     once a minute), its user deleted, disabled, or its password changed since the login
//     (the session keeps a fingerprint of the password hash, so a change made on a peer ends
//     it too). An over session is deleted.
// Login (POST /api/v1/session, and every Basic check) goes through a LoginThrottle per user
// name and per client address, consulted before Argon2id: a locked key → ResourceExhausted with
// `retry_after` set, even for the right password.
// The principal's permissions come from its role (catalog roles, re-read every 30 s).
//
// Audited here (docs/api.md §Audit; the actor is the user name given): every failed password
// check (`login.failed`, Basic and portal alike — the throttle bounds how many a key can
// cause), a lock-out when it begins (`login.locked`; the attempts it refuses are not audited),
// HTTP Basic success once per user and client address per 10 minutes (`login.basic`), and an
// API token once per token per 10 minutes: used (`token.use`) or refused because it expired or
// its user is disabled (`token.refused`). A portal login is audited by its handler
// (`session.login`, once the session exists).
//
// Who calls it: HttpServer (every request but /healthz, /readyz), app/ CLI (HashPassword).
// Thread-safety: free functions are thread-safe; Authenticator is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "http/audit_dedupe.h"
#include "http/login_throttle.h"

namespace callvault::http {

inline constexpr std::string_view kTokenPrefix = "cvt_";
inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 1024;

// Argon2id string for `password` (crypto_pwhash_str, INTERACTIVE limits). InvalidArgument for a
// password shorter than kMinPasswordLength or longer than kMaxPasswordLength; ResourceExhausted
// when the memory cannot be allocated.
Result<std::string> HashPassword(std::string_view password);
// True when `password` matches `hash` (a crypto_pwhash_str string). False for malformed hashes.
bool VerifyPassword(std::string_view hash, std::string_view password);

struct NewApiToken {
  std::string secret;  // "cvt_…": show once, never store
  std::string hash;    // TokenHash(secret): what the catalog keeps
};
NewApiToken GenerateApiToken();
// Lowercase hex SHA-256 of `secret`.
std::string TokenHash(std::string_view secret);
// What a session remembers of its user's credentials: a hash of the stored password hash.
std::string CredentialFingerprint(std::string_view password_hash);

// The authenticated caller of one request.
struct Principal {
  catalog::User user;  // password_hash cleared
  std::vector<std::string> permissions;
  std::string method;    // "basic" | "token" | "session"
  int64_t token_id = 0;  // for "token"
  // For "session": the catalog key (cookie hash), the CSRF token unsafe requests must carry,
  // and the session's absolute end.
  std::string session_hash, csrf_token;
  int64_t session_expires_ms = 0;
  bool Can(std::string_view permission) const;
};

struct AuthOptions {
  std::chrono::seconds cache_ttl{60};      // 0 = no cache
  int max_concurrent_password_checks = 2;  // >= 1
  std::chrono::seconds session_idle_timeout{30 * 60};
  std::chrono::seconds session_max_age{12 * 3600};
  bool secure_cookie = false;  // the portal is served over https: "__Host-" cookie, Secure
  LoginThrottleOptions throttle;
};

// What a request offers to prove who sent it.
struct AuthRequest {
  std::string_view authorization;  // the Authorization header ("" = none)
  std::string_view cookie;         // the Cookie header ("" = none)
  std::string_view remote;         // the client address (login throttle, sessions)
};

// A session just started: the cookie value goes to the browser once, the catalog keeps its hash.
struct NewSession {
  std::string cookie_value;
  Principal principal;  // method "session"
};

class Authenticator {
 public:
  // REQUIRES: `catalog` and `clock` outlive this object.
  Authenticator(catalog::Catalog* catalog, const Clock* clock, AuthOptions options);

  // Unauthenticated for a missing, malformed or wrong credential (the message says which, for
  // the log; clients get a generic text); Unavailable when the catalog cannot be read;
  // ResourceExhausted when Basic credentials meet a locked login (`*retry_after` set).
  // The Authorization header wins over the session cookie.
  Result<Principal> Authenticate(const AuthRequest& request,
                                 std::chrono::seconds* retry_after = nullptr) EXCLUDES(mu_);
  Result<Principal> Authenticate(std::string_view authorization) EXCLUDES(mu_) {
    return Authenticate(AuthRequest{authorization, {}, {}});
  }

  // A user name and password (the portal's login): the throttle, then Argon2id. Unauthenticated
  // for an unknown user, a wrong password or a disabled user; ResourceExhausted when locked
  // (`*retry_after` set).
  Result<Principal> Login(std::string_view username, std::string_view password,
                          std::string_view remote, std::chrono::seconds* retry_after) EXCLUDES(mu_);
  // Starts a session for `principal` (from Login): 32 random bytes as the cookie, its SHA-256
  // and a fresh CSRF token in the catalog.
  Result<NewSession> StartSession(Principal principal, std::string_view remote,
                                  std::string_view user_agent);
  // Ends the session of `principal` (method "session"; others: no-op).
  [[nodiscard]] Status EndSession(const Principal& principal);

  // The session cookie's name ("cv_session", or "__Host-cv_session" when secure).
  const std::string& cookie_name() const { return cookie_name_; }
  const AuthOptions& options() const { return options_; }

 private:
  struct CacheEntry {
    std::string password_hash;  // the stored hash the secret verified against
    std::chrono::steady_clock::time_point expires;
  };

  Result<Principal> Basic(std::string_view credentials, std::string_view remote,
                          std::chrono::seconds* retry_after) EXCLUDES(mu_);
  // Login of `method` ("basic" | "portal"): the throttle, the password check, their audit.
  Result<Principal> LoginAs(std::string_view username, std::string_view password,
                            std::string_view remote, std::chrono::seconds* retry_after,
                            std::string_view method) EXCLUDES(mu_);
  // The password check shared by Basic and Login (the throttle is the caller's). `*known` is
  // set to the user when it exists, also when the check fails.
  Result<catalog::User> CheckPassword(const std::string& username, std::string& password,
                                      std::optional<catalog::User>* known) EXCLUDES(mu_);
  Result<Principal> Session(std::string_view cookie_header) EXCLUDES(mu_);
  Result<Principal> Bearer(std::string_view token, std::string_view remote) EXCLUDES(mu_);
  // Appends an audit entry of the auth path; a failure is logged (the request goes on).
  Status Audit(std::string action, const std::string& user, const std::string& tenant,
               nlohmann::json detail, std::string_view remote);
  // Audit() once per `key` per window (AuditDedupe).
  void AuditOnce(const std::string& key, std::string action, const std::string& user,
                 const std::string& tenant, nlohmann::json detail, std::string_view remote);
  Result<Principal> ForUser(catalog::User user, std::string method, int64_t token_id) EXCLUDES(mu_);
  // Argon2id verification, at most max_concurrent_password_checks at once.
  bool VerifyBounded(std::string_view hash, std::string_view password) EXCLUDES(mu_);
  std::string CacheKey(std::string_view username, std::string_view password) const;

  catalog::Catalog* const catalog_;
  const Clock* const clock_;
  const AuthOptions options_;
  unsigned char cache_key_[32];  // random per process (BLAKE2b key)
  std::string dummy_hash_;       // verified against for unknown users (constant work)
  const std::string cookie_name_;
  LoginThrottle throttle_;
  AuditDedupe audit_dedupe_;  // login.basic, token.use, token.refused

  Mutex mu_;
  std::condition_variable verify_cv_;
  int verifying_ GUARDED_BY(mu_) = 0;
  std::map<std::string, CacheEntry> cache_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> role_permissions_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point roles_expire_ GUARDED_BY(mu_);
};

}  // namespace callvault::http
