// LoginThrottle: back-off against password guessing (issue 16). Failures are counted per user
// name and per client address; `max_failures` of them within `window` lock that key for
// `first_lock`, and each further lock of the same key doubles, up to `max_lock`. The check runs
// before the password hash is computed (Argon2id is expensive: a locked key costs nothing), and
// unknown user names are counted like known ones, so the answer does not reveal which exist.
// While a key is locked even the right password is refused (429 + Retry-After).
//
// A success clears the user name's record (not the address's: one good account must not wash
// an address that guesses at others). A key without failures for `window` after its last lock
// ended starts over. Memory is bounded: at most `max_keys` records; past that, records with
// nothing left to enforce go first, then the least recently touched of those not locked.
//
// Who calls it: http/ (the login and HTTP Basic paths of the Authenticator). Thread-safety:
// thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace callvault::http {

struct LoginThrottleOptions {
  int max_failures = 5;
  std::chrono::seconds window{15 * 60};
  std::chrono::seconds first_lock{60};
  std::chrono::seconds max_lock{15 * 60};
  size_t max_keys = 100000;
};

class LoginThrottle {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LoginThrottle(LoginThrottleOptions options = {}) : options_(options) {}

  // Zero when a password may be checked for `user` from `address` now; else how long to wait
  // (the longer of the two keys' locks, rounded up to whole seconds).
  std::chrono::seconds Check(std::string_view user, std::string_view address, TimePoint now);
  // The locks a failure began (zero = that key was not locked by it): the Authenticator audits
  // a lock-out once, when it begins, not for every attempt it refuses.
  struct Locked {
    std::chrono::seconds user{0}, address{0};
    bool any() const { return user.count() > 0 || address.count() > 0; }
  };
  // A wrong password (or an unknown user) for `user` from `address`.
  Locked Failed(std::string_view user, std::string_view address, TimePoint now);
  // The right password: the user name's record goes.
  void Succeeded(std::string_view user, TimePoint now);

  size_t keys() const;

 private:
  struct Record {
    std::deque<TimePoint> failures;  // within the window, oldest first
    TimePoint locked_until{};
    int locks = 0;  // locks so far (the next one lasts first_lock × 2^locks, capped)
    TimePoint touched{};
  };
  std::chrono::seconds Remaining(const std::string& key, TimePoint now) const;
  // The lock this failure began (0 = none).
  std::chrono::seconds Fail(const std::string& key, TimePoint now);
  void Bound(TimePoint now);

  const LoginThrottleOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Record> records_;
};

}  // namespace callvault::http
