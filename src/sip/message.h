// SIP message model and parser (RFC 3261 §7, §20, §25).
//
// A `Message` is a zero-copy view over one framed SIP message: every string_view points into
// the caller's buffer, which must stay alive and unmodified while the Message is used
// (`InboundMessage` below bundles both). Parsing is strict on framing (start line, CRLF/LF
// line ends, header name:value syntax, Content-Length) and liberal on what does not change
// meaning: compact header forms, any whitespace around ':' and ',', folded lines, repeated
// and comma-separated headers, case-insensitive names, vendor quirks listed in DESIGN.md.
//
// Called by: the transport (framing), the SIP core (every inbound message), tests, fuzzers.
// Thread-safety: Parse() is pure; a Message is a value that may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::sip {

// Request methods we know (RFC 3261 + 3262/3311/3515/6086/6665). kUnknown keeps method_text.
enum class Method : uint8_t {
  kUnknown = 0,
  kInvite,
  kAck,
  kBye,
  kCancel,
  kOptions,
  kRegister,
  kUpdate,     // RFC 3311
  kInfo,       // RFC 6086
  kPrack,      // RFC 3262
  kSubscribe,  // RFC 6665
  kNotify,     // RFC 6665
  kRefer,      // RFC 3515
  kMessage,    // RFC 3428
  kPublish,    // RFC 3903
};
std::string_view MethodName(Method m);       // "INVITE"; "" for kUnknown
Method ParseMethod(std::string_view token);  // case-sensitive (RFC 3261 §7.1)

// Headers the stack looks at; everything else is kOther (name kept). Compact forms map here
// (RFC 3261 §7.3.3: i m e l c f s k t v, plus o/u/x/r from later RFCs).
enum class HeaderId : uint8_t {
  kOther = 0,
  kVia,
  kFrom,
  kTo,
  kCallId,
  kCSeq,
  kMaxForwards,
  kContact,
  kContentLength,
  kContentType,
  kContentDisposition,
  kContentEncoding,
  kRoute,
  kRecordRoute,
  kSupported,
  kRequire,
  kProxyRequire,
  kUnsupported,
  kAllow,
  kAccept,
  kSessionExpires,  // RFC 4028 (compact x)
  kMinSe,           // RFC 4028
  kUserAgent,
  kServer,
  kWarning,
  kReason,  // RFC 3326
  kRetryAfter,
  kEvent,        // compact o
  kSubject,      // compact s
  kReferTo,      // compact r
  kAllowEvents,  // compact u
  kMimeVersion,
  kTimestamp,
  kCount_,  // keep last
};
HeaderId LookupHeader(std::string_view name);  // case-insensitive, compact forms included
std::string_view HeaderName(HeaderId id);      // canonical long form, "" for kOther

struct Header {
  HeaderId id = HeaderId::kOther;
  std::string_view name;   // as written on the wire
  std::string_view value;  // leading/trailing whitespace trimmed; folds (CRLF + WSP) kept
};

// A URI, split but not decoded (RFC 3261 §19.1). Unknown schemes keep everything in `rest`.
struct Uri {
  std::string_view scheme;   // "sip", "sips", "tel", ... (as written)
  std::string_view user;     // may be empty
  std::string_view host;     // without [] for IPv6 literals
  uint16_t port = 0;         // 0 = not given
  std::string_view params;   // ";transport=tcp;lr" including the leading ';', or empty
  std::string_view headers;  // "?a=b" without the '?', or empty
  std::string_view text;     // the whole URI as written

  // Value of a URI parameter (";name=value" → value; ";lr" → ""), nullopt when absent.
  std::optional<std::string_view> Param(std::string_view name) const;
};
Result<Uri> ParseUri(std::string_view text);

// name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route).
struct NameAddr {
  std::string_view display_name;  // unquoted text between the quotes, or bare tokens
  Uri uri;
  std::string_view params;  // header params after the URI (";tag=x;expires=3"), or empty
  std::string_view tag;     // value of ";tag=", empty when absent

  std::optional<std::string_view> Param(std::string_view name) const;
};
Result<NameAddr> ParseNameAddr(std::string_view text);

// One Via entry (RFC 3261 §20.42, RFC 3581 rport).
struct Via {
  std::string_view protocol;   // "SIP/2.0"
  std::string_view transport;  // "UDP", "TCP", "TLS", "WS" ... (as written)
  std::string_view host;       // sent-by host, without [] for IPv6
  uint16_t port = 0;           // 0 = not given
  std::string_view params;     // ";branch=z9hG4bK..;rport" with leading ';'
  std::string_view branch;     // empty when absent
  std::string_view received;   // empty when absent
  bool has_rport = false;
  std::optional<uint16_t> rport_value;
  std::string_view text;  // the whole entry as written

  std::optional<std::string_view> Param(std::string_view name) const;
};
Result<Via> ParseVia(std::string_view text);

struct CSeq {
  uint32_t number = 0;
  Method method = Method::kUnknown;
  std::string_view method_text;
};

// Splits a header value on top-level commas (not inside quotes or <>), trimming each item.
// Calls f(item) for every non-empty item.
template <typename F>
void ForEachListItem(std::string_view value, F&& f);

class Message {
 public:
  bool is_request = false;

  // Request line (RFC 3261 §7.1).
  Method method = Method::kUnknown;
  std::string_view method_text;  // as written, also for kUnknown
  std::string_view request_uri;  // raw text; ParseUri() it when needed

  // Status line (RFC 3261 §7.2).
  int status_code = 0;
  std::string_view reason;

  std::vector<Header> headers;  // in wire order
  std::string_view body;        // exactly Content-Length bytes (or the rest for UDP without it)

  // Parsed on Parse(); valid when the corresponding header was present and well-formed.
  std::string_view call_id;
  CSeq cseq;
  NameAddr from;
  NameAddr to;
  Via top_via;
  int max_forwards = -1;                 // -1 = absent
  std::optional<size_t> content_length;  // as declared
  bool has_from = false, has_to = false, has_cseq = false, has_via = false;
  // An ACK or BYE with "CSeq: n INVITE" (seen in BroadWorks replays). Tolerated: the request
  // line decides the method and the CSeq number still orders the dialog; logged by the core.
  // Any other CSeq method mismatch is an error (400).
  bool cseq_method_mismatch = false;

  // First header with that id (the whole value, may contain commas), or nullopt.
  std::optional<std::string_view> Find(HeaderId id) const;
  std::optional<std::string_view> Find(std::string_view name) const;  // for kOther names
  // Calls f(item) for every comma-separated item of every header with that id, in order.
  template <typename F>
  void ForEachValue(HeaderId id, F&& f) const;
  // True when an option tag (Supported/Require/...) is listed, case-insensitive.
  bool HasOptionTag(HeaderId id, std::string_view tag) const;
  // All Via entries in order (parses lazily; entries that fail to parse are skipped).
  std::vector<Via> AllVias() const;

  // True when a 4xx response can be built (Via, From, To, Call-ID, CSeq present) and the
  // message is a request other than ACK.
  bool CanBeAnswered() const;
};

// Outcome of Parse(): on error `status` says what is wrong and `message` holds what could be
// parsed so far (enough to answer 400 when message.CanBeAnswered()).
struct ParseResult {
  Status status;
  Message message;
};

struct ParseOptions {
  size_t max_headers = 256;         // more headers → error ("header flood")
  size_t max_header_bytes = 32768;  // start line + headers; more → error
  size_t max_body_bytes = 262144;   // a larger Content-Length → error (SIPREC metadata of a
                                    // big conference stays well below this)
  // Datagram semantics (RFC 3261 §18.3): no Content-Length means "rest of datagram"; a body
  // longer than Content-Length is truncated. Stream semantics: Content-Length required.
  bool datagram = true;
};

// Parses exactly one message occupying all of `data` (a UDP datagram, or one message framed
// by FrameStream). Validates: start line, header syntax, mandatory headers for requests
// (Via, From, To, Call-ID, CSeq; Max-Forwards tolerated when absent), CSeq method == request
// method, Content-Length vs body, single Call-ID/CSeq/From/To.
ParseResult Parse(std::string_view data, const ParseOptions& options = {});

// Stream framing (RFC 3261 §18.3): how many bytes at the front of `stream` form one message.
struct Frame {
  enum Kind { kNeedMore, kMessage, kKeepAlive, kError } kind = kNeedMore;
  size_t length = 0;  // bytes to consume for kMessage / kKeepAlive (CRLF keep-alives, RFC 5626)
  Status error;       // for kError: why the stream cannot be framed (the connection is closed)
};
Frame FrameStream(std::string_view stream, const ParseOptions& options = {});

// A message that owns its bytes: what the transport hands to the SIP core.
struct InboundMessage {
  std::string data;  // never modified or moved after Parse (the Message points into it)
  Message message;
};

}  // namespace callvault::sip

#include "sip/message_inl.h"  // template definitions
