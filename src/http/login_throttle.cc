#include "http/login_throttle.h"

#include <algorithm>
#include <vector>

namespace callvault::http {
namespace {

std::string UserKey(std::string_view user) { return "u:" + std::string(user); }
std::string AddressKey(std::string_view address) { return "a:" + std::string(address); }

}  // namespace

std::chrono::seconds LoginThrottle::Remaining(const std::string& key, TimePoint now) const {
  auto it = records_.find(key);
  if (it == records_.end() || it->second.locked_until <= now) return std::chrono::seconds(0);
  const auto left = it->second.locked_until - now;
  return std::chrono::ceil<std::chrono::seconds>(left);
}

std::chrono::seconds LoginThrottle::Check(std::string_view user, std::string_view address,
                                          TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::max(Remaining(UserKey(user), now), Remaining(AddressKey(address), now));
}

std::chrono::seconds LoginThrottle::Fail(const std::string& key, TimePoint now) {
  Record& r = records_[key];
  // Quiet for a whole window since the last lock ended and the last failure: start over.
  if (r.locks > 0 && r.locked_until + options_.window <= now &&
      (r.failures.empty() || r.failures.back() + options_.window <= now)) {
    r.locks = 0;
  }
  r.touched = now;
  r.failures.push_back(now);
  while (!r.failures.empty() && r.failures.front() + options_.window <= now) r.failures.pop_front();
  if (static_cast<int>(r.failures.size()) >= options_.max_failures) {
    auto lock = options_.first_lock;
    for (int i = 0; i < r.locks && lock < options_.max_lock; ++i) lock *= 2;
    lock = std::min(lock, options_.max_lock);
    r.locked_until = now + lock;
    ++r.locks;
    r.failures.clear();
    return std::chrono::duration_cast<std::chrono::seconds>(lock);
  }
  return std::chrono::seconds(0);
}

LoginThrottle::Locked LoginThrottle::Failed(std::string_view user, std::string_view address,
                                            TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  Locked locked;
  locked.user = Fail(UserKey(user), now);
  locked.address = Fail(AddressKey(address), now);
  Bound(now);
  return locked;
}

void LoginThrottle::Succeeded(std::string_view user, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(UserKey(user));
  // A locked user stays locked (Check refused the attempt before it got here, or the lock began
  // meanwhile); otherwise its failures are forgotten.
  if (it != records_.end() && it->second.locked_until <= now) records_.erase(it);
}

void LoginThrottle::Bound(TimePoint now) {
  if (records_.size() <= options_.max_keys) return;
  // Records with nothing to enforce: not locked, no failure inside the window.
  for (auto it = records_.begin(); it != records_.end();) {
    const Record& r = it->second;
    const bool idle =
        r.locked_until <= now && (r.failures.empty() || r.failures.back() + options_.window <= now);
    it = idle ? records_.erase(it) : std::next(it);
  }
  if (records_.size() <= options_.max_keys) return;
  // Still too many: unlocked records, least recently touched first, down to 90 % of the bound.
  std::vector<std::pair<TimePoint, std::string>> by_age;
  by_age.reserve(records_.size());
  for (const auto& [key, r] : records_)  // a lock in force goes last
    by_age.emplace_back(r.locked_until > now ? TimePoint::max() : r.touched, key);
  const size_t drop = records_.size() - options_.max_keys * 9 / 10;
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<ptrdiff_t>(drop), by_age.end());
  for (size_t i = 0; i < drop; ++i) records_.erase(by_age[i].second);
}

size_t LoginThrottle::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

}  // namespace callvault::http
