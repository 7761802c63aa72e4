// Cisco's two non-SIPREC recording forks, read into the same participant model as SIPREC
// metadata (siprec/metadata.h), so a Cisco call is recorded, mapped to channels and shown like
// any other:
//
//   * UCM Built-in-Bridge (BiB): the phone's bridge forks each direction as its own dialog. Each
//     INVITE has no SDP (delayed offer) and says in its From-URI parameters which direction it
//     carries (`x-nearend`: what the recorded phone says; `x-farend`: what the other party
//     says), the call it belongs to (`x-refci`, the same on both legs) and who is on it
//     (`x-nearendaddr`, `x-nearenddevice`, `x-farendaddr`, …). ParseBibFrom reads them;
//     BibMetadata turns them into two participants, near end on stream "nearend" (channel 0)
//     and far end on stream "farend" (channel 1).
//   * CUBE network-based recording (NBR): a plain SDP offer, participants in
//     `X-Cisco-Recording-Participant: <uri>;media-index="N"` headers (N = the m-line they send
//     on), `Cisco-Guid` as the session id; a transfer re-INVITEs with changed headers.
//     NbrParticipants reads the headers; NbrMetadata builds the snapshot, marking participants
//     that left as disassociated.
//
// Every variant is described in ../shared/siprec-samples/SOURCES.md (cisco-200788 trace, MiaRec
// scenarios). Parsing never fails: what is not understood is left out; values are bounded.
//
// Called by: siprec::CallSession and siprec::Recorder (worker and shard threads), tests, fuzz/.
// Thread-safety: pure functions over values; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "siprec/metadata.h"

namespace callvault::siprec {

// One end of a BiB call as the From parameters describe it.
struct BibParty {
  std::string addr;     // x-…addr: the directory number ("4062") or address
  std::string device;   // x-…device: "SEP189C5DB7C8AC", or a gateway's address
  std::string cluster;  // x-…clusterid
  std::string refci;    // x-refci (near end) / x-farendrefci (far end)
};

// One BiB leg (one INVITE).
struct BibLeg {
  enum class Side { kNearEnd, kFarEnd };
  Side side = Side::kNearEnd;
  BibParty near_end, far_end;

  // Stream id and m-line index in the combined recording: near end 0 ("nearend"), far end 1.
  size_t index() const { return side == Side::kNearEnd ? 0 : 1; }
  std::string_view stream_label() const { return side == Side::kNearEnd ? "nearend" : "farend"; }
  // What both legs of one call share (cluster and x-refci): pairs them.
  std::string PairKey() const { return near_end.cluster + "|" + near_end.refci; }
};

std::string_view BibSideName(BibLeg::Side side);  // "nearend", "farend"

// The BiB leg a From header value describes, nullopt when it is not one (no x-nearend/x-farend
// flag or no x-refci in the URI's parameters). Parameter names are matched case-insensitively.
std::optional<BibLeg> ParseBibFrom(std::string_view from);

// Participants "nearend" and "farend" (aor = the …addr value, a Cisco extension with device,
// cluster and refci), streams "nearend" and "farend" labelled so, each party sending on its
// own and receiving the other. data_mode complete.
RecordingMetadata BibMetadata(const BibLeg& leg);

// One X-Cisco-Recording-Participant.
struct NbrParticipant {
  std::string aor;      // the URI, without <> ("sip:2164485925@ccf.org")
  int media_index = 0;  // the m-line (0-based) this participant sends on
};

inline constexpr size_t kMaxNbrParticipants = 16;

// Every X-Cisco-Recording-Participant header among `headers` (name, value), in order; a header
// may list several comma-separated values. Entries without a usable media-index are skipped.
std::vector<NbrParticipant> NbrParticipants(
    const std::vector<std::pair<std::string, std::string>>& headers);

// The snapshot for the participants an INVITE or re-INVITE names: one participant per entry
// (id = its aor), one stream per media index (id "media-index-N", label "N"), and every
// participant of `previous` no longer named, kept with disassociate_time = `at` (it left:
// transfer). data_mode complete; raw = the header lines.
RecordingMetadata NbrMetadata(const std::vector<NbrParticipant>& participants,
                              const RecordingMetadata* previous, std::string_view at);

}  // namespace callvault::siprec
