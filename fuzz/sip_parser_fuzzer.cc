// libFuzzer target for the SIP parser (sip/message.h): Parse in datagram and stream modes, the
// stream framer, the URI/name-addr/Via sub-parsers, and a round trip: the 400 we would answer
// to whatever parsed far enough must itself parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/builder.h"
#include "sip/message.h"

using namespace callvault::sip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ParseResult r = Parse(in);
  for (const Header& h : r.message.headers) {
    (void)ParseUri(h.value);
    (void)ParseNameAddr(h.value);
    (void)ParseVia(h.value);
    ForEachListItem(h.value, [](std::string_view item) { (void)item.size(); });
  }
  if (r.message.CanBeAnswered()) {
    std::string answer =
        ResponseTo(r.message, 400, {}, "fz").Header("Warning", "399 h \"x\"").Build();
    // The stack drops an answer larger than its own header limit (sip.answer_dropped).
    if (answer.size() > ParseOptions{}.max_header_bytes) return 0;
    ParseResult back = Parse(answer);
    // Headers that made it into the request view may still be unparsable in detail (bad Via),
    // but the answer must frame and carry the request's Call-ID.
    if (FrameStream(answer).kind != Frame::kMessage) abort();
    if (back.message.call_id != r.message.call_id && back.status.ok()) abort();
  }
  ParseOptions stream;
  stream.datagram = false;
  std::string_view rest = in;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    Frame f = FrameStream(rest, stream);
    if (f.kind == Frame::kNeedMore || f.kind == Frame::kError) break;
    if (f.length == 0 || f.length > rest.size()) abort();  // framing must make progress
    if (f.kind == Frame::kMessage) (void)Parse(rest.substr(0, f.length), stream);
    rest.remove_prefix(f.length);
  }
  return 0;
}
