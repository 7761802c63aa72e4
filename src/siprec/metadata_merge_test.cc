// Merge (INVITE → re-INVITE/UPDATE snapshots) and MapParticipantsToStreams (m-line mapping).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "siprec/metadata.h"

namespace callvault::siprec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Two participants on two separate streams, RFC 7865 style, with the given ids.
std::string TwoParty(std::string_view rec, std::string_view sess, std::string_view mode,
                     std::string_view labels_a = "1", std::string_view labels_b = "2") {
  std::string x =
      "<recording id=\"" + std::string(rec) + "\" xmlns=\"urn:ietf:params:xml:ns:recording:1\">";
  if (!mode.empty()) x += "<dataMode>" + std::string(mode) + "</dataMode>";
  x += "<session session_id=\"" + std::string(sess) + "\"/>";
  x +=
      R"(<participant participant_id="A"><nameID aor="sip:a@x"><name>A</name></nameID></participant>
<participant participant_id="B"><nameID aor="sip:b@x"/></participant>)";
  x += "<stream stream_id=\"SA\" session_id=\"" + std::string(sess) + "\"><label>" +
       std::string(labels_a) + "</label></stream>";
  x += "<stream stream_id=\"SB\" session_id=\"" + std::string(sess) + "\"><label>" +
       std::string(labels_b) + "</label></stream>";
  x +=
      R"(<participantstreamassoc participant_id="A"><send>SA</send><recv>SB</recv></participantstreamassoc>
<participantstreamassoc participant_id="B"><send>SB</send><recv>SA</recv></participantstreamassoc></recording>)";
  return x;
}

// Metaswitch on hold: a complete snapshot with new recording/session/participant ids.
TEST(MetadataMergeTest, CompleteReplacesWithNewIds) {
  const auto first = ParseMetadata(TwoParty("R1", "S1", "complete"));
  const std::string hold = R"(<recording id="R2" xmlns="urn:ietf:params:xml:ns:recording">
<datamode>complete</datamode><session session_id="S2"/>
<participant participant_id="C"><nameID aor="5550003"/></participant>
<participant participant_id="D"><nameID aor="5550004"/></participant>
<stream id="M" session_id="S2"><label>1</label></stream>
<participantstreamassoc participant_id="C"><send>M</send><recv>M</recv></participantstreamassoc>
<participantstreamassoc participant_id="D"><send>M</send><recv>M</recv></participantstreamassoc>
</recording>)";
  const auto merged = Merge(first, ParseMetadata(hold));
  EXPECT_EQ(merged.recording_id, "R2");
  ASSERT_EQ(merged.sessions.size(), 1u);
  EXPECT_EQ(merged.sessions[0].id, "S2");
  ASSERT_EQ(merged.participants.size(), 2u);
  EXPECT_EQ(merged.participants[0].id, "C");
  EXPECT_EQ(merged.FindParticipant("A"), nullptr);
  EXPECT_EQ(merged.raw, hold);
}

// Avaya SBCE: the INVITE had a dummy participant; the UPDATE is a complete snapshot.
TEST(MetadataMergeTest, AvayaUpdateReplacesDummyParticipant) {
  const auto invite = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<dataMode>complete</dataMode><session session_id="U"></session>
<participant participant_id="real1"><nameID aor="sip:1@x"></nameID></participant>
<participantstreamassoc participant_id="real1"><send>s10</send></participantstreamassoc>
<participant participant_id="dummy"><nameID aor="sip:ASBCE@asbce.com"></nameID></participant>
<participantstreamassoc participant_id="dummy"></participantstreamassoc>
<stream stream_id="s10" session_id="U"><label>10</label></stream>
<stream stream_id="" session_id="U"><label>20</label></stream></recording>)");
  const auto update = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<dataMode>complete</dataMode><session session_id="U"></session>
<participant participant_id="real1"><nameID aor="sip:1@x"></nameID></participant>
<participantstreamassoc participant_id="real1"><send>s10</send></participantstreamassoc>
<participant participant_id="real2"><nameID aor="sip:2@x"></nameID></participant>
<participantstreamassoc participant_id="real2"><send>s20</send></participantstreamassoc>
<stream stream_id="s10" session_id="U"><label>10</label></stream>
<stream stream_id="s20" session_id="U"><label>20</label></stream></recording>)");
  const auto merged = Merge(invite, update);
  ASSERT_EQ(merged.participants.size(), 2u);
  EXPECT_EQ(merged.FindParticipant("dummy"), nullptr);
  const auto map = MapParticipantsToStreams(merged, {"10", "20"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[1].participant_id, "real2");
  EXPECT_FALSE(map[1].guessed());
}

TEST(MetadataMergeTest, PartialAddsParticipant) {
  const auto first = ParseMetadata(TwoParty("R1", "S1", "complete"));
  const auto update = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<dataMode>partial</dataMode>
<participant participant_id="C"><nameID aor="sip:c@x"><name>Carol</name></nameID></participant>
<participantsessionassoc participant_id="C" session_id="S1"><associate-time>2025-01-01T00:01:00Z</associate-time></participantsessionassoc>
<participantstreamassoc participant_id="C"><send>SB</send><recv>SA</recv></participantstreamassoc>
<participantstreamassoc participant_id="B"><recv>SA</recv></participantstreamassoc>
</recording>)");
  EXPECT_THAT(update.problems, IsEmpty());  // references to earlier snapshots are fine
  const auto merged = Merge(first, update);
  ASSERT_EQ(merged.participants.size(), 3u);
  EXPECT_EQ(merged.participants[2].name, "Carol");
  EXPECT_THAT(merged.participants[2].session_ids, ElementsAre("S1"));
  EXPECT_EQ(merged.participants[2].associate_time, "2025-01-01T00:01:00Z");
  const auto* b = merged.FindParticipant("B");
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->send, IsEmpty());  // B's new association replaced the old one
  EXPECT_THAT(b->recv, ElementsAre("SA"));
  EXPECT_THAT(b->aors, ElementsAre("sip:b@x"));  // kept from the INVITE
  EXPECT_EQ(merged.streams.size(), 2u);
  EXPECT_EQ(merged.sessions.size(), 1u);
}

TEST(MetadataMergeTest, PartialDisassociatesParticipantAndStream) {
  const auto first = ParseMetadata(TwoParty("R1", "S1", "complete"));
  const auto update = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<dataMode>partial</dataMode>
<participantsessionassoc participant_id="B" session_id="S1"><disassociate-time>2025-01-01T00:05:00Z</disassociate-time></participantsessionassoc>
<participantstreamassoc participant_id="A"><recv>SB</recv><disassociate-time>2025-01-01T00:05:00Z</disassociate-time></participantstreamassoc>
</recording>)");
  const auto merged = Merge(first, update);
  ASSERT_EQ(merged.participants.size(), 2u);
  const auto* b = merged.FindParticipant("B");
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->active());
  EXPECT_EQ(b->disassociate_time, "2025-01-01T00:05:00Z");
  const auto* a = merged.FindParticipant("A");
  EXPECT_THAT(a->send, ElementsAre("SA"));
  EXPECT_THAT(a->recv, IsEmpty());
  const auto map = MapParticipantsToStreams(merged, {"1", "2"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].participant_id, "A");
  EXPECT_EQ(map[1].participant_id, "");  // B left
}

TEST(MetadataMergeTest, UnmarkedUpdateWithSomeElementsIsMergedById) {
  const auto first = ParseMetadata(TwoParty("R1", "S1", ""));
  const auto update = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<participant participant_id="A"><nameID aor="sip:a@x"><name>Alice Renamed</name></nameID></participant>
</recording>)");
  const auto merged = Merge(first, update);
  EXPECT_EQ(merged.participants.size(), 2u);
  EXPECT_EQ(merged.FindParticipant("A")->name, "Alice Renamed");
  EXPECT_THAT(merged.FindParticipant("A")->send, ElementsAre("SA"));
  EXPECT_TRUE(merged.HasProblem("merged by id"));
}

TEST(MetadataMergeTest, UnusableUpdateKeepsState) {
  const auto first = ParseMetadata(TwoParty("R1", "S1", "complete"));
  const auto merged = Merge(first, ParseMetadata("<recording_metadata>garbage"));
  EXPECT_EQ(merged.participants.size(), 2u);
  EXPECT_FALSE(merged.well_formed);
  EXPECT_TRUE(merged.HasProblem("kept the state"));
}

TEST(MetadataMapTest, LabelsMatch) {
  const auto md = ParseMetadata(TwoParty("R", "S", "complete", "a_leg", "b_leg"));
  const auto map = MapParticipantsToStreams(md, {"b_leg", "a_leg"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].mline, 0u);
  EXPECT_EQ(map[0].stream_id, "SB");
  EXPECT_EQ(map[0].participant_id, "B");
  EXPECT_EQ(map[0].stream_match, ChannelMatch::kLabel);
  EXPECT_EQ(map[0].association, AssociationSource::kParticipantStreamAssoc);
  EXPECT_FALSE(map[0].guessed());
  EXPECT_EQ(map[1].participant_id, "A");
}

// drachtio: SDP labels a_leg/b_leg, metadata labels 1/2, and no association at all.
TEST(MetadataMapTest, LabelsMismatchFallBackToStreamThenDocumentOrder) {
  const auto md = ParseMetadata(R"(<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
<datamode>complete</datamode><session session_id="S"/>
<participant participant_id="P1"><nameID aor="sip:6001@localhost"/></participant>
<participant participant_id="P2"><nameID aor="sip:101@localhost"/></participant>
<stream stream_id="X1" session_id="S"><label>1</label></stream>
<stream stream_id="X2" session_id="S"><label>2</label></stream></recording>)");
  const auto map = MapParticipantsToStreams(md, {"a_leg", "b_leg"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].stream_id, "X1");
  EXPECT_EQ(map[0].stream_match, ChannelMatch::kStreamOrder);
  EXPECT_EQ(map[0].participant_id, "P1");
  EXPECT_EQ(map[0].association, AssociationSource::kDocumentOrder);
  EXPECT_TRUE(map[0].guessed());
  EXPECT_EQ(map[1].participant_id, "P2");
  EXPECT_TRUE(map[1].guessed());
}

TEST(MetadataMapTest, MissingLabelsAndMissingStreams) {
  const auto md = ParseMetadata(TwoParty("R", "S", "complete"));
  const auto map = MapParticipantsToStreams(md, {"", "", ""});
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[0].participant_id, "A");
  EXPECT_EQ(map[0].stream_match, ChannelMatch::kStreamOrder);
  EXPECT_EQ(map[1].participant_id, "B");
  EXPECT_EQ(map[2].stream_id, "");  // a third m-line without any metadata stream
  EXPECT_EQ(map[2].participant_id, "");
  EXPECT_EQ(map[2].stream_match, ChannelMatch::kDocumentOrder);

  const auto no_metadata = MapParticipantsToStreams(RecordingMetadata{}, {"1"});
  ASSERT_EQ(no_metadata.size(), 1u);
  EXPECT_EQ(no_metadata[0].participant_id, "");
}

// BroadWorks: one mixed stream, every participant sends on it.
TEST(MetadataMapTest, MixedSingleStreamCarriesBothParticipants) {
  const auto md = ParseMetadata(R"(<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
<dataMode>complete</dataMode><session id="s"/>
<participant id="p1" session="s"><aor>sip:1@x</aor><send><id>m</id></send></participant>
<participant id="p2" session="s"><aor>sip:2@x</aor><send><id>m</id></send></participant>
<stream id="m" session="s"><label>1</label><mode>mixed</mode></stream></recording_metadata>)");
  const auto map = MapParticipantsToStreams(md, {"1"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].participant_id, "p1");
  EXPECT_EQ(map[1].participant_id, "p2");
  EXPECT_TRUE(map[0].mixed);
  EXPECT_EQ(map[0].association, AssociationSource::kParticipantSendRecv);
  EXPECT_FALSE(map[1].guessed());

  // Same without any link: both on the single m-line, flagged as a guess.
  const auto unlinked = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<datamode>complete</datamode><participant participant_id="p1"/><participant participant_id="p2"/>
<stream stream_id="m"><label>1</label></stream></recording>)");
  const auto guess = MapParticipantsToStreams(unlinked, {"1"});
  ASSERT_EQ(guess.size(), 2u);
  EXPECT_TRUE(guess[0].mixed);
  EXPECT_TRUE(guess[1].guessed());
}

}  // namespace
}  // namespace callvault::siprec
