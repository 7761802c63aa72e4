#include "sip/session_timer.h"

#include <algorithm>
#include <charconv>

#include "base/strings.h"

namespace callvault::sip {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::optional<uint32_t> ParseDelta(std::string_view s) {
  s = Trim(s);
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<SessionExpires> ParseSessionExpires(std::string_view value) {
  size_t semi = value.find(';');
  auto seconds = ParseDelta(value.substr(0, semi));
  if (!seconds) return std::nullopt;
  SessionExpires se{*seconds, {}};
  while (semi != std::string_view::npos) {
    std::string_view rest = value.substr(semi + 1);
    semi = rest.find(';');
    std::string_view param = Trim(rest.substr(0, semi));
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && EqualsIgnoreCase(Trim(param.substr(0, eq)), "refresher")) {
      std::string_view v = Trim(param.substr(eq + 1));
      if (EqualsIgnoreCase(v, "uac")) se.refresher = "uac";
      if (EqualsIgnoreCase(v, "uas")) se.refresher = "uas";
    }
    if (semi != std::string_view::npos) semi += value.size() - rest.size();
  }
  return se;
}

std::string SessionTimerDecision::HeaderValue() const {
  return std::to_string(interval_s) + (refresher_is_uac ? ";refresher=uac" : ";refresher=uas");
}

SessionTimerDecision NegotiateSessionTimer(const Message& request, uint32_t default_s,
                                           uint32_t our_min_se_s) {
  SessionTimerDecision d;
  const bool supports = request.HasOptionTag(HeaderId::kSupported, "timer") ||
                        request.HasOptionTag(HeaderId::kRequire, "timer");
  std::optional<SessionExpires> se;
  if (auto v = request.Find(HeaderId::kSessionExpires)) se = ParseSessionExpires(*v);
  uint32_t their_min = 0;
  if (auto v = request.Find(HeaderId::kMinSe))
    their_min = ParseDelta(v->substr(0, v->find(';'))).value_or(0);
  const uint32_t floor = std::max(our_min_se_s, their_min);

  if (se) {
    if (se->seconds < our_min_se_s) {
      d.reject = true;
      d.min_se = floor;
      return d;
    }
    d.interval_s = se->seconds;
  } else if (supports) {
    d.interval_s = std::max(default_s, floor);
  } else {
    return d;  // no timer: the UAC neither asked for one nor can refresh one
  }
  d.active = true;
  if (se && se->refresher == "uas") {
    d.refresher_is_uac = false;
  } else if (se && se->refresher == "uac") {
    d.refresher_is_uac = true;
  } else {
    d.refresher_is_uac = supports;  // §9: the UAS picks; a UAC without timer cannot refresh
  }
  d.require_timer = d.refresher_is_uac;
  return d;
}

SessionTimerDecision SessionTimerFromResponse(const Message& response) {
  SessionTimerDecision d;
  std::optional<SessionExpires> se;
  if (auto v = response.Find(HeaderId::kSessionExpires)) se = ParseSessionExpires(*v);
  if (!se) return d;  // §7.2: no Session-Expires in the 2xx → no session expiration
  d.active = true;
  d.interval_s = se->seconds;
  // The sender of the refresh is the UAC of that transaction: it keeps refreshing unless the
  // answer hands the job to the UAS.
  d.refresher_is_uac = se->refresher != "uas";
  return d;
}

}  // namespace callvault::sip
