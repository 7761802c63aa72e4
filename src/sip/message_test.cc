// Parser tests: message in → fields (or the error) out. Vendor quirks are named after the
// vendor whose traffic showed them (../shared/siprec-samples/SOURCES.md).
#include "sip/message.h"

#include <gtest/gtest.h>

namespace callvault::sip {
namespace {

std::string Invite(const std::string& extra_headers = "", const std::string& body = "") {
  std::string m =
      "INVITE sip:srs@10.0.0.2:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
      "Max-Forwards: 70\r\n"
      "To: <sip:srs@10.0.0.2>\r\n"
      "From: \"Rec Client\" <sip:src@10.0.0.1>;tag=1928301774\r\n"
      "Call-ID: a84b4c76e66710@10.0.0.1\r\n"
      "CSeq: 314159 INVITE\r\n"
      "Contact: <sip:src@10.0.0.1:5060>\r\n";
  m += extra_headers;
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

std::string Without(std::string m, const std::string& line) {
  m.erase(m.find(line), line.size());
  return m;
}
std::string Replace(std::string m, const std::string& from, const std::string& to) {
  return m.replace(m.find(from), from.size(), to);
}

TEST(ParseTest, BasicInvite) {
  std::string data = Invite("", "v=0\r\n");
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  const Message& m = r.message;
  EXPECT_TRUE(m.is_request);
  EXPECT_EQ(m.method, Method::kInvite);
  EXPECT_EQ(m.request_uri, "sip:srs@10.0.0.2:5060");
  EXPECT_EQ(m.call_id, "a84b4c76e66710@10.0.0.1");
  EXPECT_EQ(m.cseq.number, 314159u);
  EXPECT_EQ(m.cseq.method, Method::kInvite);
  EXPECT_EQ(m.from.display_name, "Rec Client");
  EXPECT_EQ(m.from.tag, "1928301774");
  EXPECT_EQ(m.from.uri.user, "src");
  EXPECT_TRUE(m.to.tag.empty());
  EXPECT_EQ(m.top_via.transport, "UDP");
  EXPECT_EQ(m.top_via.host, "10.0.0.1");
  EXPECT_EQ(m.top_via.port, 5060);
  EXPECT_EQ(m.top_via.branch, "z9hG4bK776asdhds");
  EXPECT_TRUE(m.top_via.has_rport);
  EXPECT_EQ(m.max_forwards, 70);
  EXPECT_EQ(m.body, "v=0\r\n");
  EXPECT_TRUE(m.CanBeAnswered());
}

TEST(ParseTest, StatusLine) {
  std::string data =
      "SIP/2.0 180 Ringing Now\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.message.is_request);
  EXPECT_EQ(r.message.status_code, 180);
  EXPECT_EQ(r.message.reason, "Ringing Now");
  EXPECT_EQ(r.message.to.tag, "2");
}

TEST(ParseTest, CompactFormsAndCaseInsensitiveNames) {
  std::string data =
      "OPTIONS sip:srs@h SIP/2.0\r\nv: SIP/2.0/UDP h:5070;branch=z9hG4bKc\r\nf: <sip:a@b>;tag=1\r\n"
      "t: sip:c@d\r\ni: compact-1\r\nCSEQ: 7 OPTIONS\r\nk: timer, siprec\r\nl: 0\r\n\r\n";
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.message.call_id, "compact-1");
  EXPECT_EQ(r.message.top_via.port, 5070);
  EXPECT_TRUE(r.message.HasOptionTag(HeaderId::kSupported, "SIPREC"));
  EXPECT_EQ(r.message.to.uri.host, "d");
}

TEST(ParseTest, OracleTwoSpacesAfterColonAndBroadWorksNoSpace) {
  std::string data = Invite("Require:  siprec\r\nContent-Type:multipart/mixed;boundary=x\r\n");
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(*r.message.Find(HeaderId::kRequire), "siprec");
  EXPECT_EQ(*r.message.Find(HeaderId::kContentType), "multipart/mixed;boundary=x");
}

TEST(ParseTest, RepeatedAndCommaSeparatedHeaders) {
  std::string data = Invite(
      "Accept: application/sdp\r\nAccept: application/rs-metadata+xml, multipart/mixed\r\n"
      "Via: SIP/2.0/UDP proxy:5060;branch=z9hG4bK2, SIP/2.0/TCP "
      "[2001:db8::1]:5061;branch=z9hG4bK3\r\n"
      "Contact: \"A, B\" <sip:a@h>, <sip:b@h;lr>\r\n");
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  std::vector<std::string> accepts;
  r.message.ForEachValue(HeaderId::kAccept, [&](std::string_view v) { accepts.emplace_back(v); });
  EXPECT_EQ(accepts, (std::vector<std::string>{"application/sdp", "application/rs-metadata+xml",
                                               "multipart/mixed"}));
  auto vias = r.message.AllVias();
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(vias[2].host, "2001:db8::1");
  EXPECT_EQ(vias[2].port, 5061);
  std::vector<std::string> contacts;
  r.message.ForEachValue(HeaderId::kContact, [&](std::string_view v) { contacts.emplace_back(v); });
  ASSERT_EQ(contacts.size(), 3u);  // the request's own Contact plus two
  EXPECT_EQ(contacts[1], "\"A, B\" <sip:a@h>");
}

TEST(ParseTest, FoldedLinesAndIntradoNullCallInfo) {
  std::string data = Invite("Subject: first\r\n  second\r\n\tthird\r\nCall-Info: (null)\r\n");
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(*r.message.Find(HeaderId::kSubject), "first\r\n  second\r\n\tthird");
  EXPECT_EQ(*r.message.Find("call-info"), "(null)");
}

TEST(ParseTest, LfOnlyLineEndsAndLeadingEmptyLines) {
  std::string data = "\r\n\r\n" + Invite("", "body");
  for (size_t i = 0; (i = data.find("\r\n", i)) != std::string::npos;) data.erase(i, 1);
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.message.body, "body");
}

TEST(ParseTest, DatagramBodyLongerThanContentLengthIsTruncated) {
  std::string data = Invite("", "abc") + "junk";
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.message.body, "abc");
  ParseOptions stream;
  stream.datagram = false;
  EXPECT_FALSE(Parse(data, stream).status.ok());
}

TEST(ParseTest, AckOrByeWithCSeqInviteIsTolerated) {
  std::string ack = Replace(Replace(Invite(), "INVITE sip:", "ACK sip:"), "To: <sip:srs@10.0.0.2>",
                            "To: <sip:srs@10.0.0.2>;tag=abc");
  ParseResult r = Parse(ack);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.message.method, Method::kAck);
  EXPECT_TRUE(r.message.cseq_method_mismatch);
  // Any other mismatch stays an error.
  EXPECT_FALSE(Parse(Replace(Invite(), "INVITE sip:", "OPTIONS sip:")).status.ok());
  EXPECT_FALSE(Parse(Replace(Replace(Invite(), "INVITE sip:", "BYE sip:"), "314159 INVITE",
                             "314159 OPTIONS"))
                   .status.ok());
}

TEST(ParseTest, UnknownMethodParses) {
  std::string data = Invite();
  data.replace(0, 6, "FOOBAR");
  data.replace(data.find("314159 INVITE"), 13, "314159 FOOBAR");
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.message.method, Method::kUnknown);
  EXPECT_EQ(r.message.method_text, "FOOBAR");
}

struct BadCase {
  const char* name;
  std::string data;
  const char* error_contains;
  bool answerable;
  StatusCode code = StatusCode::kInvalidArgument;
};

TEST(ParseTest, MalformedMessagesNameTheProblem) {
  const std::string inv = Invite();
  const std::vector<BadCase> cases = {
      {"missing Call-ID", Without(inv, "Call-ID: a84b4c76e66710@10.0.0.1\r\n"), "missing Call-ID",
       false},
      {"duplicate Call-ID", Invite("Call-ID: other\r\n"), "more than one Call-ID", true},
      {"CSeq method mismatch", Replace(inv, "314159 INVITE", "314159 BYE"), "does not match", true},
      {"CSeq not a number", Replace(inv, "314159 INVITE", "abc INVITE"), "bad CSeq", true},
      {"CSeq too large", Replace(inv, "314159 INVITE", "4294967296 INVITE"), "bad CSeq", true},
      {"Content-Length larger", Replace(inv, "Content-Length: 0", "Content-Length: 50"),
       "larger than the body", true},
      {"Content-Length not a number", Replace(inv, "Content-Length: 0", "Content-Length: x"),
       "bad Content-Length", true},
      {"header without colon", Invite("NoColonHere\r\n"), "without ':'", true},
      {"bad header name", Invite("Bad Name: x\r\n"), "bad header name", true},
      {"bad Via", Replace(inv, "SIP/2.0/UDP 10.0.0.1:5060", "SIP/3.0/UDP 10.0.0.1:5060"), "bad Via",
       true},
      {"Via port out of range", Replace(inv, "10.0.0.1:5060;branch", "10.0.0.1:99999;branch"),
       "bad Via", true},
      {"missing Via",
       Without(inv, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"),
       "missing Via", false},
      {"bad From", Replace(inv, "<sip:src@10.0.0.1>", "<sip:src@10.0.0.1"), "bad From", true},
      {"bad Max-Forwards", Replace(inv, "Max-Forwards: 70", "Max-Forwards: 300"),
       "bad Max-Forwards", true},
      {"SIP/3.0", Replace(inv, "5060 SIP/2.0\r\n", "5060 SIP/3.0\r\n"), "version", true,
       StatusCode::kUnimplemented},
      {"binary junk", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9), "control", false},
      {"no empty line", inv.substr(0, inv.size() - 2), "not terminated", true},
      {"empty", "\r\n\r\n", "empty message", false},
      {"Request-URI without scheme", Replace(inv, "sip:srs@10.0.0.2:5060 ", "srs "), "no scheme",
       true},
  };
  for (const BadCase& c : cases) {
    ParseResult r = Parse(c.data);
    EXPECT_FALSE(r.status.ok()) << c.name;
    EXPECT_NE(r.status.message().find(c.error_contains), std::string_view::npos)
        << c.name << ": " << r.status.ToString();
    EXPECT_EQ(r.message.CanBeAnswered(), c.answerable) << c.name;
    EXPECT_EQ(r.status.code(), c.code) << c.name;
  }
}

// RFC 3261 §25.1: quoted-pair = "\\" (%x00-09 / %x0B-0C / %x0E-7F): NUL, BEL and DEL may be
// escaped inside a quoted-string. The rest is the shape of RFC 4475 §3.1.1.2 in our own words:
// every token character in the method, branch, tag and an extension header name.
TEST(ParseTest, QuotedPairMayEscapeNulBelAndDel) {
  const std::string method = "!odd-Method0123456789_*+`.%really'~";
  std::string display = "nul:\\";
  display += '\0';
  display += " bel:\\\x07 del:\\\x7f";
  std::string data = method +
                     " sip:1_odd.user~(yes!)&it's+a$/crazy?,/;;*:&a+b=1,c!*p$w~d.(x)@example.com"
                     " SIP/2.0\r\n"
                     "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%77*_+`'~\r\n"
                     "To: \"" +
                     display +
                     "\" <sip:1_odd.user~(yes!)&it's+a$/crazy?,/;;*@example.com>\r\n"
                     "From: tok1~` tok2'+_ tok3*%!.- <sip:src@example.com>"
                     ";fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\";tag=_t~1'+`*%!-.\r\n"
                     "Call-ID: odd.word%ZK-!.*_+'@word`~)(><:\\}{][?]\r\n"
                     "CSeq: 139122385 " +
                     method +
                     "\r\n"
                     "Max-Forwards: 255\r\n"
                     "extensionHeader-!.%*+_`'~: \xef\xbb\xbf\xe5\xa4\xa7\r\n"
                     "Content-Length: 0\r\n\r\n";
  ParseResult r = Parse(data);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.message.method, Method::kUnknown);
  EXPECT_EQ(r.message.method_text, method);
  EXPECT_EQ(r.message.to.display_name, display);
  EXPECT_EQ(r.message.from.tag, "_t~1'+`*%!-.");
  EXPECT_EQ(r.message.top_via.branch, "z9hG4bK-.!%77*_+`'~");
  EXPECT_EQ(r.message.max_forwards, 255);
  EXPECT_TRUE(r.message.CanBeAnswered());
}

TEST(ParseTest, BareNulStaysMalformed) {
  auto with_to = [](std::string_view value) {
    return Replace(Invite(), "To: <sip:srs@10.0.0.2>", "To: " + std::string(value));
  };
  const std::string nul(1, '\0');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"outside any quotes", Invite("X-Nul: a" + nul + "b\r\n")},
      {"in a quoted-string, not escaped", with_to("\"a" + nul + "b\" <sip:srs@h>")},
      {"backslash outside quotes", with_to("a\\" + nul + " <sip:srs@h>")},
      {"in the URI", with_to("<sip:s" + nul + "rs@h>")},
  };
  for (const auto& [name, data] : cases) {
    ParseResult r = Parse(data);
    EXPECT_FALSE(r.status.ok()) << name;
    EXPECT_NE(r.status.message().find("NUL byte in header"), std::string_view::npos)
        << name << ": " << r.status.ToString();
  }
}

// RFC 4475 §3.1.2.1: empty Via/Contact/From/To elements make a request malformed (400).
TEST(ParseTest, EmptyAddressHeaderElementsAreMalformed) {
  const std::string inv = Invite();
  const std::string via = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport";
  const std::vector<BadCase> cases = {
      {"Via ;;", Replace(inv, ";rport", ";;rport"), "bad Via: empty parameter", true},
      {"Via trailing ;", Replace(inv, ";rport", ";rport;"), "bad Via: empty parameter", true},
      {"Via ; ;", Replace(inv, ";rport", "; ;rport"), "bad Via: empty parameter", true},
      {"Via ,,", Replace(inv, via, via + ",,SIP/2.0/UDP p2;branch=z9hG4bK3"),
       "bad Via: empty list item", true},
      {"Via trailing ,", Replace(inv, via, via + " ,"), "bad Via: empty list item", true},
      {"second Via ;,", Invite("Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"), "bad Via: empty parameter",
       true},
      {"Contact ;;;;",
       Replace(inv, "Contact: <sip:src@10.0.0.1:5060>",
               "Contact: \"Joe\" <sip:src@10.0.0.1:5060>;;;;"),
       "bad Contact: empty parameter", true},
      {"Contact , ,", Invite("Contact: <sip:a@h>, ,<sip:b@h>\r\n"), "bad Contact: empty list item",
       true},
      {"From ;;tag", Replace(inv, "<sip:src@10.0.0.1>;tag=", "<sip:src@10.0.0.1>;;tag="),
       "bad From: empty parameter", true},
      {"To trailing ;", Replace(inv, "To: <sip:srs@10.0.0.2>", "To: sip:srs@10.0.0.2;"),
       "bad To: empty parameter", true},
  };
  for (const BadCase& c : cases) {
    ParseResult r = Parse(c.data);
    EXPECT_FALSE(r.status.ok()) << c.name;
    EXPECT_NE(r.status.message().find(c.error_contains), std::string_view::npos)
        << c.name << ": " << r.status.ToString();
    EXPECT_TRUE(r.message.CanBeAnswered()) << c.name;
    EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << c.name;
  }
  // Not empty elements: separators inside <> or quotes, and other list headers stay liberal.
  ParseResult ok =
      Parse(Invite("Contact: \"a;;b,,c\" <sip:a;;x@h;;y>;p=\";;\", <sip:b@h>\r\n"
                   "Via: SIP/2.0/UDP p2;branch=z9hG4bK3;x=\"a;;b\"\r\n"
                   "Supported: timer,,siprec,\r\n"));
  EXPECT_TRUE(ok.status.ok()) << ok.status.ToString();
}

TEST(ParseTest, HeaderFloodAndHugeHeaderAreBounded) {
  std::string flood;
  for (int i = 0; i < 300; ++i) flood += "X-H" + std::to_string(i) + ": v\r\n";
  ParseResult r = Parse(Invite(flood));
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
  ParseResult big = Parse(Invite("X-Big: " + std::string(70000, 'a') + "\r\n"));
  EXPECT_EQ(big.status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(big.message.CanBeAnswered());  // Via/From/To/Call-ID/CSeq came first
}

TEST(UriTest, Forms) {
  auto u = ParseUri("sips:+15551234567;npdi@[2001:db8::5]:5061;transport=tls;lr?subject=x");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "sips");
  EXPECT_EQ(u->user, "+15551234567;npdi");
  EXPECT_EQ(u->host, "2001:db8::5");
  EXPECT_EQ(u->port, 5061);
  EXPECT_EQ(u->Param("transport").value_or("?"), "tls");
  EXPECT_EQ(u->Param("lr").value_or("?"), "");
  EXPECT_FALSE(u->Param("maddr").has_value());
  EXPECT_EQ(u->headers, "subject=x");
  auto tel = ParseUri("tel:+1-555-0100;phone-context=example.com");
  ASSERT_TRUE(tel.ok());
  EXPECT_EQ(tel->user, "+1-555-0100");
  EXPECT_FALSE(ParseUri("no-scheme").ok());
  EXPECT_FALSE(ParseUri("sip:").ok());
  EXPECT_FALSE(ParseUri("sip:a@h:0").ok());
  EXPECT_FALSE(ParseUri("sip:a@[::1").ok());
}

TEST(NameAddrTest, Forms) {
  auto a = ParseNameAddr("sip:a@h;tag=9");  // addr-spec: ;tag belongs to the header
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->tag, "9");
  EXPECT_TRUE(a->uri.params.empty());
  auto b = ParseNameAddr("Alice <sip:a@h;transport=tcp>;tag=x;expires=3");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->display_name, "Alice");
  EXPECT_EQ(b->uri.Param("transport").value_or(""), "tcp");
  EXPECT_EQ(b->Param("expires").value_or(""), "3");
  auto c = ParseNameAddr("\"Quote \\\" inside\" <sip:a@h>");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->display_name, "Quote \\\" inside");
  // Cisco UCM BiB From with many parameters.
  auto d = ParseNameAddr(
      "<sip:1001@10.48.46.181;x-nearend;x-refci=25570664;x-nearendclusterid=StandAloneCluster>"
      ";tag=40019~c8f65e80");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->uri.Param("x-refci").value_or(""), "25570664");
  EXPECT_TRUE(d->uri.Param("x-nearend").has_value());
  EXPECT_FALSE(ParseNameAddr("\"unterminated <sip:a@h>").ok());
}

TEST(FrameStreamTest, Framing) {
  std::string a = Invite("", "hello");
  std::string b = Invite();
  std::string both = a + b;
  Frame f = FrameStream(both);
  ASSERT_EQ(f.kind, Frame::kMessage);
  EXPECT_EQ(f.length, a.size());
  for (size_t n = 0; n < a.size(); ++n) {
    EXPECT_EQ(FrameStream(std::string_view(a).substr(0, n)).kind, Frame::kNeedMore) << n;
  }
  EXPECT_EQ(FrameStream("\r\n\r\n").kind, Frame::kKeepAlive);
  EXPECT_EQ(FrameStream("\r\n\r\n").length, 4u);
  EXPECT_EQ(FrameStream("\r\nINV").length, 2u);
  EXPECT_EQ(FrameStream("\r\n\r").kind, Frame::kNeedMore);
  std::string no_cl = Without(Invite(), "Content-Length: 0\r\n");
  no_cl += "\r\n";  // Without removed the last header; keep the empty line
  EXPECT_EQ(FrameStream(Invite().substr(0, Invite().find("Content-Length")) + "\r\n").kind,
            Frame::kError);
  ParseOptions small;
  small.max_header_bytes = 100;
  EXPECT_EQ(FrameStream(std::string(200, 'a'), small).kind, Frame::kError);
  EXPECT_EQ(FrameStream(Replace(Invite(), "Content-Length: 0", "l: 0")).kind, Frame::kMessage);
  Frame huge = FrameStream(Replace(Invite(), "Content-Length: 0", "Content-Length: 10000000"));
  EXPECT_EQ(huge.kind, Frame::kError);
  EXPECT_EQ(huge.error.code(), StatusCode::kResourceExhausted);
}

TEST(HeaderNamesTest, LookupAndNames) {
  EXPECT_EQ(LookupHeader("call-id"), HeaderId::kCallId);
  EXPECT_EQ(LookupHeader("I"), HeaderId::kCallId);
  EXPECT_EQ(LookupHeader("x"), HeaderId::kSessionExpires);
  EXPECT_EQ(LookupHeader("min-se"), HeaderId::kMinSe);
  EXPECT_EQ(LookupHeader("X-Custom"), HeaderId::kOther);
  EXPECT_EQ(HeaderName(HeaderId::kCSeq), "CSeq");
  EXPECT_EQ(ParseMethod("UPDATE"), Method::kUpdate);
  EXPECT_EQ(ParseMethod("update"), Method::kUnknown);  // methods are case-sensitive
  EXPECT_EQ(MethodName(Method::kBye), "BYE");
}

}  // namespace
}  // namespace callvault::sip
