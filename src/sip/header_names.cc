// Method and header-name tables of sip/message.h (RFC 3261 §7.3.3 compact forms, §20).
#include <array>
#include <cstring>

#include "sip/internal/text.h"
#include "sip/message.h"

namespace callvault::sip {
namespace {

using internal::IEquals;
using internal::Lower;

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

HeaderId LookupHeader(std::string_view name) {
  if (name.size() == 1) {
    const char c = Lower(name[0]);
    for (const auto& e : kCompact) {
      if (e.name[0] == c) return e.id;
    }
    return HeaderId::kOther;
  }
  // Cheap prefilter on length and first letter before the case-insensitive compare.
  const char first = Lower(name.empty() ? '\0' : name[0]);
  for (size_t i = 1; i < kNames.size(); ++i) {
    const std::string_view n = kNames[i];
    if (n.size() == name.size() && Lower(n[0]) == first && IEquals(n, name)) {
      return static_cast<HeaderId>(i);
    }
  }
  return HeaderId::kOther;
}

std::string_view HeaderName(HeaderId id) {
  const size_t i = static_cast<size_t>(id);
  return i < kNames.size() ? kNames[i] : "";
}

}  // namespace callvault::sip
