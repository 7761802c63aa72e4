// Method and header-name tables of sip/message.h (RFC 3261 §7.3.3 compact forms, §20).
#include <array>
#include <cstring>

#include "sip/internal/text.h"
#include "sip/message.h"

namespace callvault::sip {
namespace {

struct MethodEntry {
  std::string_view name;
  Method method;
};
constexpr MethodEntry kMethods[] = {
    {"INVITE", Method::kInvite},   {"ACK", Method::kAck},
    {"BYE", Method::kBye},         {"CANCEL", Method::kCancel},
    {"OPTIONS", Method::kOptions}, {"REGISTER", Method::kRegister},
    {"UPDATE", Method::kUpdate},   {"INFO", Method::kInfo},
    {"PRACK", Method::kPrack},     {"SUBSCRIBE", Method::kSubscribe},
    {"NOTIFY", Method::kNotify},   {"REFER", Method::kRefer},
    {"MESSAGE", Method::kMessage}, {"PUBLISH", Method::kPublish},
};

struct HeaderEntry {
  std::string_view name;
  HeaderId id;
};
// Canonical long names, indexed by HeaderId.
constexpr std::array<std::string_view, static_cast<size_t>(HeaderId::kCount_)> kNames = {
    "",
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Contact",
    "Content-Length",
    "Content-Type",
    "Content-Disposition",
    "Content-Encoding",
    "Route",
    "Record-Route",
    "Supported",
    "Require",
    "Proxy-Require",
    "Unsupported",
    "Allow",
    "Accept",
    "Session-Expires",
    "Min-SE",
    "User-Agent",
    "Server",
    "Warning",
    "Reason",
    "Retry-After",
    "Event",
    "Subject",
    "Refer-To",
    "Allow-Events",
    "MIME-Version",
    "Timestamp",
};
// Compact forms (RFC 3261 §7.3.3, RFC 3265 o/u, RFC 3515 r, RFC 4028 x).
constexpr HeaderEntry kCompact[] = {
    {"v", HeaderId::kVia},         {"f", HeaderId::kFrom},
    {"t", HeaderId::kTo},          {"i", HeaderId::kCallId},
    {"m", HeaderId::kContact},     {"l", HeaderId::kContentLength},
    {"c", HeaderId::kContentType}, {"e", HeaderId::kContentEncoding},
    {"k", HeaderId::kSupported},   {"s", HeaderId::kSubject},
    {"o", HeaderId::kEvent},       {"u", HeaderId::kAllowEvents},
    {"r", HeaderId::kReferTo},     {"x", HeaderId::kSessionExpires},
};

}  // namespace

std::string_view MethodName(Method m) {
  for (const auto& e : kMethods) {
    if (e.method == m) return e.name;
  }
  return "";
}

Method ParseMethod(std::string_view token) {
  for (const auto& e : kMethods) {
    if (e.name == token) return e.method;
  }
  return Method::kUnknown;
}

// Headers bucketed by lower-case first letter, built once: a lookup compares a few names.
struct Buckets {
  std::array<std::array<uint8_t, 8>, 26> ids{};
  std::array<uint8_t, 26> count{};
  Buckets() {
    for (size_t i = 1; i < kNames.size(); ++i) {
      const int b = AsciiLower(kNames[i][0]) - 'a';
      ids[b][count[b]++] = static_cast<uint8_t>(i);
    }
  }
};
const Buckets& HeaderBuckets() {
  static const Buckets b;
  return b;
}

HeaderId LookupHeader(std::string_view name) {
  if (name.empty()) return HeaderId::kOther;
  const char first = AsciiLower(name[0]);
  if (first < 'a' || first > 'z') return HeaderId::kOther;
  if (name.size() == 1) {
    for (const auto& e : kCompact) {
      if (e.name[0] == first) return e.id;
    }
    return HeaderId::kOther;
  }
  const Buckets& b = HeaderBuckets();
  const int bucket = first - 'a';
  for (uint8_t k = 0; k < b.count[bucket]; ++k) {
    const uint8_t i = b.ids[bucket][k];
    const std::string_view n = kNames[i];
    if (n.size() == name.size() && EqualsIgnoreCase(n, name)) return static_cast<HeaderId>(i);
  }
  return HeaderId::kOther;
}

std::string_view HeaderName(HeaderId id) {
  const size_t i = static_cast<size_t>(id);
  return i < kNames.size() ? kNames[i] : "";
}

}  // namespace callvault::sip
