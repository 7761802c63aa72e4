// The SDP parser's state machine, split over siprec/sdp.cc (lines, session, m=) and
// siprec/sdp_media.cc (attributes, payload type resolution). Use siprec::ParseSdp() instead.
//
// Thread-safety: one parser per call, used by one thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "siprec/internal/sdp_text.h"
#include "siprec/sdp.h"

namespace callvault::siprec::internal {

class SdpParser {
 public:
  Result<SessionDescription> Parse(std::string_view text);

 private:
  struct PendingRtpmap {
    size_t line;
    int payload_type;
    std::string name;
    int clock_rate;
    int channels;
  };
  struct PendingFmtp {
    size_t line;
    std::string format;
    std::string params;
  };
  // Attributes of the current m= section that need the whole section (any order).
  struct SectionState {
    std::vector<PendingRtpmap> rtpmaps;
    std::vector<PendingFmtp> fmtps;
    bool direction_seen = false;
  };

  Status Error(std::string_view what) const;  // "sdp: line <n>: <what>"
  void Warn(std::string_view what);           // at the current line
  void WarnAt(size_t line, std::string_view what);

  Status ParseLine(std::string_view line);
  Status ParseOrigin(std::string_view value);
  Result<Connection> ParseConnection(std::string_view value);
  Status ParseBandwidth(std::string_view value, std::vector<Bandwidth>* out);
  Status ParseMediaLine(std::string_view value);
  Status ParseSessionAttribute(std::string_view value);
  Status ParseMediaAttribute(std::string_view value);
  Status ParseRtpmap(std::string_view value);
  Status ParseFmtp(std::string_view value);
  Status ParseCrypto(std::string_view value, MediaDescription* m);
  void ParseRtcp(std::string_view value, MediaDescription* m);
  void ParsePtime(std::string_view name, std::string_view value, std::optional<int>* out);
  Status FinishSession();  // checks after the session-level lines
  Status FinishMedia();    // resolves the last m= section

  SessionDescription sd_;
  SectionState section_;
  size_t line_no_ = 0;
  bool have_origin_ = false;
  bool have_session_name_ = false;
};

// Direction attribute name → Direction; nullopt for other names.
std::optional<Direction> ParseDirectionName(std::string_view name);

}  // namespace callvault::siprec::internal
