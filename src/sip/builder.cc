#include "sip/builder.h"

#include "sip/internal/text.h"

namespace callvault::sip {
namespace {

// A header value on one line: folds and stray CR/LF become one space (no header injection).
void AppendOneLine(std::string* out, std::string_view value) {
  bool pending_space = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') {
      pending_space = true;
      continue;
    }
    if (pending_space) {
      while (!out->empty() && (out->back() == ' ' || out->back() == '\t')) out->pop_back();
      out->push_back(' ');
      pending_space = false;
      if (c == ' ' || c == '\t') continue;
    }
    if (c == '\0') c = ' ';
    out->push_back(c);
  }
}

}  // namespace

std::string_view DefaultReason(int code) {
  switch (code) {
    case 100:
      return "Trying";
    case 180:
      return "Ringing";
    case 181:
      return "Call Is Being Forwarded";
    case 182:
      return "Queued";
    case 183:
      return "Session Progress";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Unsupported URI Scheme";
    case 420:
      return "Bad Extension";
    case 421:
      return "Extension Required";
    case 422:
      return "Session Interval Too Small";
    case 423:
      return "Interval Too Brief";
    case 480:
      return "Temporarily Unavailable";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 482:
      return "Loop Detected";
    case 483:
      return "Too Many Hops";
    case 484:
      return "Address Incomplete";
    case 485:
      return "Ambiguous";
    case 486:
      return "Busy Here";
    case 487:
      return "Request Terminated";
    case 488:
      return "Not Acceptable Here";
    case 491:
      return "Request Pending";
    case 493:
      return "Undecipherable";
    case 500:
      return "Server Internal Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Server Time-out";
    case 505:
      return "Version Not Supported";
    case 513:
      return "Message Too Large";
    case 600:
      return "Busy Everywhere";
    case 603:
      return "Decline";
    case 604:
      return "Does Not Exist Anywhere";
    case 606:
      return "Not Acceptable";
    default:
      return "Unknown";
  }
}

MessageBuilder MessageBuilder::Request(std::string_view method, std::string_view request_uri) {
  MessageBuilder b;
  b.head_.reserve(512);
  AppendOneLine(&b.head_, method);
  b.head_ += ' ';
  AppendOneLine(&b.head_, request_uri);
  b.head_ += " SIP/2.0\r\n";
  return b;
}

MessageBuilder MessageBuilder::Response(int status_code, std::string_view reason) {
  MessageBuilder b;
  b.head_.reserve(512);
  b.head_ += "SIP/2.0 ";
  b.head_ += std::to_string(status_code);
  b.head_ += ' ';
  AppendOneLine(&b.head_, reason.empty() ? DefaultReason(status_code) : reason);
  b.head_ += "\r\n";
  return b;
}

MessageBuilder& MessageBuilder::Header(std::string_view name, std::string_view value) {
  AppendOneLine(&head_, name);
  head_ += ": ";
  AppendOneLine(&head_, value);
  head_ += "\r\n";
  return *this;
}

MessageBuilder& MessageBuilder::RawHeaderLine(std::string_view line) {
  AppendOneLine(&head_, line);
  head_ += "\r\n";
  return *this;
}

MessageBuilder& MessageBuilder::Body(std::string_view content_type, std::string_view body) {
  if (!content_type.empty()) Header("Content-Type", content_type);
  body_.assign(body);
  return *this;
}

std::string MessageBuilder::Build() const {
  std::string out;
  out.reserve(head_.size() + body_.size() + 32);
  out += head_;
  out += "Content-Length: ";
  out += std::to_string(body_.size());
  out += "\r\n\r\n";
  out += body_;
  return out;
}

MessageBuilder ResponseTo(const Message& request, int status_code, std::string_view reason,
                          std::string_view to_tag) {
  MessageBuilder b = MessageBuilder::Response(status_code, reason);
  for (const sip::Header& h : request.headers) {  // §8.2.6.2: every Via, in order
    if (h.id == HeaderId::kVia) b.Header("Via", h.value);
  }
  if (auto from = request.Find(HeaderId::kFrom)) b.Header("From", *from);
  if (auto to = request.Find(HeaderId::kTo)) {
    std::string value(*to);
    if (!to_tag.empty()) {
      auto na = ParseNameAddr(*to);
      if (na.ok() && na->tag.empty()) value += ";tag=" + std::string(to_tag);
    }
    b.Header("To", value);
  }
  if (auto call_id = request.Find(HeaderId::kCallId)) b.Header("Call-ID", *call_id);
  if (auto cseq = request.Find(HeaderId::kCSeq)) b.Header("CSeq", *cseq);
  return b;
}

}  // namespace callvault::sip
