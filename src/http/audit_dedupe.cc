#include "http/audit_dedupe.h"

#include <algorithm>
#include <vector>

namespace callvault::http {

bool AuditDedupe::Claim(std::string_view key, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = claimed_.find(std::string(key));
  if (it != claimed_.end()) {
    if (now < it->second + options_.window) return false;
    it->second = now;
    return true;
  }
  if (claimed_.size() >= options_.max_keys) Bound(now);
  claimed_.emplace(std::string(key), now);
  return true;
}

void AuditDedupe::Release(std::string_view key, TimePoint claimed_at) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = claimed_.find(std::string(key));
  if (it != claimed_.end() && it->second == claimed_at) claimed_.erase(it);
}

size_t AuditDedupe::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_.size();
}

void AuditDedupe::Bound(TimePoint now) {
  std::erase_if(claimed_, [&](const auto& kv) { return now >= kv.second + options_.window; });
  if (claimed_.size() < options_.max_keys) return;
  std::vector<std::pair<TimePoint, std::string>> by_age;
  by_age.reserve(claimed_.size());
  for (const auto& [key, at] : claimed_) by_age.emplace_back(at, key);
  const size_t drop = std::max<size_t>(1, claimed_.size() / 10);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<ptrdiff_t>(drop - 1), by_age.end());
  for (size_t i = 0; i < drop; ++i) claimed_.erase(by_age[i].second);
}

}  // namespace callvault::http
