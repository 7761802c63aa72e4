// SIPREC recording metadata (RFC 7865 data model, RFC 7866 §9 transport) and the pre-RFC
// drafts real SRCs still send: parsing into one model, merging the snapshots a call receives,
// mapping participants to SDP m-lines, and the JSON written into the call's manifest
// (docs/formats/manifest.md `participants[]`, `metadata[]`).
//
// What the parser accepts (every variant is described in ../shared/siprec-samples/SOURCES.md):
//   * namespaces `urn:ietf:params:xml:ns:recording:1` (RFC 7865),
//   `urn:ietf:params:xml:ns:recording`
//     (draft; Oracle/Acme, Sonus, Metaswitch) and `urn:ietf:params:xml:ns:siprec` with root
//     `<recording_metadata>` (BroadWorks, Webex); any prefix (`tns:`) — names are matched on their
//     local part, case-insensitively (`dataMode`/`datamode`), because pugixml is not
//     namespace-aware;
//   * RFC attribute names (`participant_id`, `session_id`, `stream_id`, `group_id`) and draft ones
//     (`id`, `session`, `group`), `group-ref` children;
//   * participant↔stream links from `<participantstreamassoc>` (RFC 7865 §6.7) or from
//     `<send>`/`<recv>` inside `<participant>` (draft; text or `<id>` children as BroadWorks
//     sends). When nothing links them the parser guesses by document order and says so.
// Vendor `<extensiondata>` and unknown elements are kept as raw XML, never interpreted here.
//
// Robustness: ParseMetadata never fails. Input larger than kMaxMetadataBytes is not parsed;
// documents with more than kMaxMetadataElements elements or deeper than kMaxMetadataDepth are
// not interpreted. A document that is not well-formed is repaired by a bounded loop (at most
// kMaxMetadataRepairs re-parses): when pugixml stops at a malformed tag, the `<` that opened
// it is escaped as text (`&lt;`) and the document is parsed again; this recovers the stray
// `<sip:…>` URI that Oracle SBCs write into `<apkt:request-uri>` for Genesys. When the repairs
// do not help, the tree pugixml built up to the error is used. DTDs are skipped unparsed and
// entities are never expanded (pugixml only knows the five predefined ones and character
// references). Every deviation is a human-readable line in RecordingMetadata::problems.
//
// Called by: siprec/ (recording session: INVITE, re-INVITE and UPDATE bodies), recording/
// (manifest), tests, fuzz/metadata_fuzzer.
// Thread-safety: pure functions over values; safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace callvault::siprec {

// Bounds on hostile input (real metadata is 1–10 KB with < 200 elements).
inline constexpr size_t kMaxMetadataBytes = 1 << 20;    // larger input is not parsed
inline constexpr size_t kMaxMetadataElements = 5000;    // more elements: not interpreted
inline constexpr size_t kMaxMetadataDepth = 64;         // deeper nesting: not interpreted
inline constexpr size_t kMaxMetadataRepairs = 16;       // stray-'<' repairs per document
inline constexpr size_t kMaxMetadataValueBytes = 8192;  // longer ids/names/aors are truncated
inline constexpr size_t kMaxMetadataProblems = 64;      // further problems are counted only
inline constexpr size_t kRawKeptWhenTooLarge = 4096;    // raw prefix kept for oversized input

// Which schema the root element declares (its default or prefixed namespace).
enum class MetadataNamespace : uint8_t {
  kNone,            // no namespace declared on the root
  kRfc7865,         // urn:ietf:params:xml:ns:recording:1
  kDraftRecording,  // urn:ietf:params:xml:ns:recording (no ":1"): Oracle, Sonus, Metaswitch
  kSiprecDraft,     // urn:ietf:params:xml:ns:siprec, root <recording_metadata>: BroadWorks
  kOther,           // some other namespace (a problem is recorded)
};

// RFC 7865 §6.1 dataMode.
enum class DataMode : uint8_t { kUnspecified, kComplete, kPartial };

// RFC 7865 §6.6 (draft <mode>): separate = one party per stream, mixed = all parties mixed.
enum class StreamMode : uint8_t { kUnspecified, kSeparate, kMixed };

// How a participant's send/recv stream ids became known. Persistent in manifests (as the names
// AssociationSourceName returns): do not rename.
enum class AssociationSource : uint8_t {
  kNone,                    // not linked to any stream
  kParticipantStreamAssoc,  // RFC 7865 <participantstreamassoc participant_id=…><send>/<recv>
  kParticipantSendRecv,     // draft: <send>/<recv> inside <participant> (Oracle, BroadWorks)
  kDocumentOrder,           // GUESSED: nothing linked participants and streams; i-th ↔ i-th
  kSipHeaders,              // not XML: Cisco BiB From parameters / NBR participant headers
};

// An <extensiondata> element, kept verbatim.
struct Extension {
  std::string parent;  // the `parent` attribute (BroadWorks), else the id of the enclosing
                       // session/participant/stream/group, "" at the root without `parent`
  std::string xml;     // the whole <extensiondata> element serialized (raw, with its xmlns)
};

struct MetadataSession {
  std::string id;                                 // session_id / id
  std::vector<std::string> sip_session_ids;       // <sipSessionID> (RFC 7989 value, as written)
  std::vector<std::string> group_refs;            // <group-ref> children or draft `group` attribute
  std::string start_time, stop_time;              // <start-time>, <stop-time> as written
  std::string associate_time, disassociate_time;  // draft children or <sessionrecordingassoc>
  std::vector<Extension> extensions;
  std::vector<std::string> unknown;  // raw XML of unrecognized children
};

struct MetadataGroup {
  std::string id;  // group_id / id
  std::string associate_time, disassociate_time;
  std::vector<std::string> vendor;  // raw XML of every other child: Sonus <callData>,
                                    // BroadWorks <initiator>, <extensiondata>
};

struct MetadataParticipant {
  std::string id;                        // participant_id / id
  std::vector<std::string> session_ids;  // draft `session` attribute, <participantsessionassoc>
  std::string name;               // first non-empty <name>, trimmed ("" for "<name> </name>")
  std::vector<std::string> aors;  // <nameID aor=…> or draft <aor>, as written (the scheme
                                  // may be absent: "2249888500@172.16.198.55")
  std::vector<std::string> send;  // stream ids this participant sends on
  std::vector<std::string> recv;  // stream ids this participant receives
  AssociationSource association = AssociationSource::kNone;
  std::string associate_time, disassociate_time;   // participant or participantsessionassoc
  std::vector<std::string> disassociated_streams;  // from <participantstreamassoc> carrying a
                                                   // <disassociate-time> (removed by Merge)
  bool declared = true;  // false: only referenced by an assoc element, no <participant>
  std::vector<Extension> extensions;
  std::vector<std::string> unknown;  // raw XML of unrecognized children (Intrado <role>)

  // False once a disassociate-time was received (the participant left).
  bool active() const { return disassociate_time.empty(); }
};

struct MetadataStream {
  std::string id;          // stream_id / id ("" when the SRC sent an empty one: Avaya SBCE)
  std::string session_id;  // session_id / session
  std::string label;       // <label>: matches the SDP a=label (RFC 4574) of its m-line
  StreamMode mode = StreamMode::kUnspecified;
  std::string associate_time, disassociate_time;
  std::vector<Extension> extensions;
  std::vector<std::string> unknown;
};

// One metadata snapshot, or the state merged from several (Merge).
struct RecordingMetadata {
  std::string raw;           // the text as received (for a merged state: the latest snapshot's)
  bool well_formed = false;  // XML 1.0 well-formed, valid UTF-8, no NUL
  std::vector<std::string> problems;  // every deviation or guess, one line each
  MetadataNamespace namespace_kind = MetadataNamespace::kNone;
  std::string root_name;  // local name of the root element: "recording", "recording_metadata"
  DataMode data_mode = DataMode::kUnspecified;
  std::string recording_id;  // root `id` attribute (Metaswitch) or <recording id> (BroadWorks)
  std::vector<MetadataSession> sessions;
  std::vector<MetadataGroup> groups;
  std::vector<MetadataParticipant> participants;  // document order
  std::vector<MetadataStream> streams;            // document order
  std::vector<Extension> extensions;              // root-level <extensiondata>
  std::vector<std::string> unknown;               // raw XML of unknown root children

  // nullptr when absent. Pointers are invalidated by any change to the vectors.
  const MetadataParticipant* FindParticipant(std::string_view id) const;
  const MetadataStream* FindStream(std::string_view id) const;
  // True when some problem line contains `text` (tests, logs).
  bool HasProblem(std::string_view text) const;
};

// Parses one metadata body (the application/rs-metadata(+xml) part, as received). Never fails:
// what cannot be understood is reported in `problems`; `raw` always holds the input (or, above
// kMaxMetadataBytes, its first kRawKeptWhenTooLarge bytes and a truncation marker).
// Work is O(input size × (1 + kMaxMetadataRepairs)).
RecordingMetadata ParseMetadata(std::string_view xml);

// Applies a later snapshot (re-INVITE/UPDATE) to the current state of a call.
//   * update.data_mode complete → the update replaces the state (Metaswitch sends new recording
//     and session ids on hold; Avaya SBCE's UPDATE replaces its dummy participant);
//   * partial → elements are updated by id, new ones appended, disassociate-times applied
//     (the participant stays listed with active() == false; streams listed in a
//     participantstreamassoc disassociation leave its send/recv);
//   * unspecified → treated as complete when it carries sessions, participants and streams,
//     else as partial;
//   * an update with nothing usable (no sessions, participants or streams) keeps the state.
// raw/well_formed/problems of the result are the update's, plus a line saying what the merge did
// when it was not a plain replacement. The caller keeps every raw snapshot for the manifest.
RecordingMetadata Merge(const RecordingMetadata& current, const RecordingMetadata& update);

// How an SDP m-line was tied to a metadata <stream>.
enum class ChannelMatch : uint8_t {
  kLabel,          // metadata <label> == the m-line's a=label
  kStreamOrder,    // GUESSED: labels missing or not matching; i-th unmatched stream ↔ m-line
  kDocumentOrder,  // GUESSED: no metadata stream for the m-line (or nobody linked to streams):
                   // i-th active participant ↔ i-th m-line
};

// One (m-line, participant) pair: who sends on which m-line. Every m-line appears at least once
// (participant_id "" when nobody is known to send on it).
struct ParticipantChannel {
  size_t mline = 0;            // index in the SDP (0-based)
  std::string sdp_label;       // the m-line's a=label ("" when absent)
  std::string stream_id;       // metadata stream id ("" when none)
  std::string participant_id;  // "" when unknown
  ChannelMatch stream_match = ChannelMatch::kLabel;
  AssociationSource association = AssociationSource::kNone;
  bool mixed = false;  // several participants on this m-line (mixed stream)

  bool guessed() const {
    return stream_match != ChannelMatch::kLabel || association == AssociationSource::kDocumentOrder;
  }
};

// Maps metadata participants onto the SDP m-lines, given each m-line's a=label in m-line order
// ("" for an m-line without label). Inactive (disassociated) participants are skipped.
// Order of the result: by m-line, then participant document order.
std::vector<ParticipantChannel> MapParticipantsToStreams(
    const RecordingMetadata& metadata, const std::vector<std::string>& sdp_labels_in_mline_order);

// The JSON for the manifest (docs/formats/manifest.md): {well_formed, problems, namespace,
// data_mode, recording_id, sessions[], groups[], participants[] {id, name, aor, aors, send,
// recv, association, …}, streams[], extensions[], unknown[], raw}. Invalid UTF-8 in any string
// is replaced by U+FFFD so that dump() never throws.
nlohmann::json ToJson(const RecordingMetadata& metadata);

// Stable names used in JSON and logs.
std::string_view MetadataNamespaceName(MetadataNamespace kind);  // "rfc7865", "draft", "siprec"…
std::string_view DataModeName(DataMode mode);                    // "complete", "partial", ""
std::string_view StreamModeName(StreamMode mode);                // "separate", "mixed", ""
std::string_view AssociationSourceName(AssociationSource source);
std::string_view ChannelMatchName(ChannelMatch match);  // "label", "stream_order", …

}  // namespace callvault::siprec
