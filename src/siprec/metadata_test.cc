// Metadata parser tests, one per variant family in ../shared/siprec-samples/SOURCES.md. The XML
// here is our own, written to show each vendor's shape (ids and numbers are made up).
#include "siprec/metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace callvault::siprec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const MetadataParticipant& P(const RecordingMetadata& md, std::string_view id) {
  const MetadataParticipant* p = md.FindParticipant(id);
  if (p == nullptr) {
    ADD_FAILURE() << "no participant " << id;
    static const MetadataParticipant kNone;
    return kNone;
  }
  return *p;
}

TEST(MetadataTest, Rfc7865ParticipantStreamAssocSendRecv) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<datamode>complete</datamode>
<session session_id="S1"><sipSessionID>ab12;remote=cd34</sipSessionID>
<start-time>2025-01-02T03:04:05.678Z</start-time></session>
<participant participant_id="PA"><nameID aor="sip:alice@example.com"><name xml:lang="en">Alice</name></nameID></participant>
<participantsessionassoc participant_id="PA" session_id="S1"><associate-time>2025-01-02T03:04:05Z</associate-time></participantsessionassoc>
<stream stream_id="SA" session_id="S1"><label>1</label></stream>
<participant participant_id="PB"><nameID aor="sip:bob@example.com"></nameID></participant>
<stream stream_id="SB" session_id="S1"><label>2</label></stream>
<participantstreamassoc participant_id="PA"><send>SA</send><recv>SB</recv></participantstreamassoc>
<participantstreamassoc participant_id="PB"><send>SB</send><recv>SA</recv></participantstreamassoc>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems, IsEmpty());
  EXPECT_EQ(md.namespace_kind, MetadataNamespace::kRfc7865);
  EXPECT_EQ(md.data_mode, DataMode::kComplete);
  ASSERT_EQ(md.sessions.size(), 1u);
  EXPECT_THAT(md.sessions[0].sip_session_ids, ElementsAre("ab12;remote=cd34"));
  EXPECT_EQ(md.sessions[0].start_time, "2025-01-02T03:04:05.678Z");
  ASSERT_EQ(md.participants.size(), 2u);
  EXPECT_EQ(P(md, "PA").name, "Alice");
  EXPECT_THAT(P(md, "PA").aors, ElementsAre("sip:alice@example.com"));
  EXPECT_THAT(P(md, "PA").send, ElementsAre("SA"));
  EXPECT_THAT(P(md, "PA").recv, ElementsAre("SB"));
  EXPECT_THAT(P(md, "PA").session_ids, ElementsAre("S1"));
  EXPECT_EQ(P(md, "PA").associate_time, "2025-01-02T03:04:05Z");
  EXPECT_EQ(P(md, "PB").association, AssociationSource::kParticipantStreamAssoc);
  EXPECT_EQ(P(md, "PB").name, "");
  ASSERT_EQ(md.streams.size(), 2u);
  EXPECT_EQ(md.streams[1].label, "2");
  EXPECT_EQ(md.streams[1].session_id, "S1");
}

TEST(MetadataTest, OracleDraftSendInsideParticipantWithApktExtensions) {
  const auto md = ParseMetadata(R"(<?xml version='1.0' encoding='UTF-8'?>
<recording xmlns='urn:ietf:params:xml:ns:recording'>
	<datamode>complete</datamode>
	<session id="OS1==">
		<associate-time>2024-05-06T07:08:09</associate-time>
		<extensiondata xmlns:apkt="http://acmepacket.com/siprec/extensiondata">
			<apkt:ucid>00AB0123456789ABCDEF01;encoding=hex</apkt:ucid>
			<apkt:callerOrig>true</apkt:callerOrig>
		</extensiondata>
	</session>
	<participant id="OP1==" session="OS1==">
		<nameID aor="sip:5551000@198.51.100.7"><name>5551000</name></nameID>
		<send>OST1==</send>
		<associate-time>2024-05-06T07:08:09</associate-time>
		<extensiondata xmlns:apkt="http://acmepacket.com/siprec/extensiondata">
			<apkt:callingParty>true</apkt:callingParty>
			<apkt:header label="Call-ID"><value>abc@198.51.100.7</value></apkt:header>
		</extensiondata>
	</participant>
	<participant id="OP2==" session="OS1==">
		<nameID aor="sip:5552000@203.0.113.9"><name>5552000</name></nameID>
		<send>OST2==</send>
	</participant>
	<stream id="OST1==" session="OS1=="><label>33554433</label><mode>separate</mode></stream>
	<stream id="OST2==" session="OS1=="><label>33554434</label><mode>separate</mode></stream>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems, IsEmpty());
  EXPECT_EQ(md.namespace_kind, MetadataNamespace::kDraftRecording);
  ASSERT_EQ(md.sessions.size(), 1u);
  EXPECT_EQ(md.sessions[0].id, "OS1==");
  EXPECT_EQ(md.sessions[0].associate_time, "2024-05-06T07:08:09");
  ASSERT_EQ(md.sessions[0].extensions.size(), 1u);
  EXPECT_THAT(md.sessions[0].extensions[0].xml, HasSubstr("<apkt:ucid>00AB0123456789ABCDEF01;"));
  EXPECT_THAT(md.sessions[0].extensions[0].xml, HasSubstr("xmlns:apkt="));
  EXPECT_EQ(md.sessions[0].extensions[0].parent, "OS1==");
  const auto& p1 = P(md, "OP1==");
  EXPECT_THAT(p1.session_ids, ElementsAre("OS1=="));
  EXPECT_THAT(p1.send, ElementsAre("OST1=="));
  EXPECT_EQ(p1.association, AssociationSource::kParticipantSendRecv);
  ASSERT_EQ(p1.extensions.size(), 1u);
  EXPECT_THAT(p1.extensions[0].xml, HasSubstr(R"(<apkt:header label="Call-ID">)"));
  EXPECT_EQ(md.FindStream("OST2==")->label, "33554434");  // big integer labels stay text
  EXPECT_EQ(md.FindStream("OST2==")->mode, StreamMode::kSeparate);
}

TEST(MetadataTest, SonusPrefixedNamespaceGroupCallDataAorWithoutScheme) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<tns:recording xmlns:tns='urn:ietf:params:xml:ns:recording'>
  <tns:datamode>complete</tns:datamode>
  <tns:group group_id="G1">
    <tns:associate-time>1970-01-02T03:04:05Z</tns:associate-time>
    <callData xmlns='urn:ietf:params:xml:ns:callData'><callid>xyz-1</callid><gcid>42</gcid></callData>
  </tns:group>
  <tns:session session_id="S1"><tns:group-ref>G1</tns:group-ref></tns:session>
  <tns:participant participant_id="A"><tns:nameID aor="1000@192.0.2.10"><tns:name xml:lang="en">Ext 1000</tns:name></tns:nameID></tns:participant>
  <tns:participant participant_id="B"><tns:nameID aor="2000@192.0.2.20"><tns:name xml:lang="en"> </tns:name></tns:nameID></tns:participant>
  <tns:stream stream_id="X" session_id="S1"><tns:label>1</tns:label></tns:stream>
  <tns:stream stream_id="Y" session_id="S1"><tns:label>2</tns:label></tns:stream>
  <tns:sessionrecordingassoc session_id="S1"><tns:associate-time>1970-01-02T03:04:05Z</tns:associate-time></tns:sessionrecordingassoc>
  <tns:participantstreamassoc participant_id="A"><tns:send>Y</tns:send><tns:recv>X</tns:recv></tns:participantstreamassoc>
  <tns:participantstreamassoc participant_id="B"><tns:send>X</tns:send><tns:recv>Y</tns:recv></tns:participantstreamassoc>
</tns:recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems, IsEmpty());
  EXPECT_EQ(md.namespace_kind, MetadataNamespace::kDraftRecording);
  EXPECT_EQ(md.root_name, "recording");
  ASSERT_EQ(md.groups.size(), 1u);
  EXPECT_EQ(md.groups[0].id, "G1");
  EXPECT_EQ(md.groups[0].associate_time, "1970-01-02T03:04:05Z");
  ASSERT_EQ(md.groups[0].vendor.size(), 1u);
  EXPECT_THAT(md.groups[0].vendor[0], HasSubstr("<gcid>42</gcid>"));
  EXPECT_THAT(md.sessions[0].group_refs, ElementsAre("G1"));
  EXPECT_EQ(md.sessions[0].associate_time, "1970-01-02T03:04:05Z");
  EXPECT_THAT(P(md, "A").aors, ElementsAre("1000@192.0.2.10"));  // kept without "sip:"
  EXPECT_EQ(P(md, "A").name, "Ext 1000");
  EXPECT_EQ(P(md, "B").name, "");  // "<name> </name>"
  EXPECT_THAT(P(md, "A").send, ElementsAre("Y"));
}

TEST(MetadataTest, AvayaSbceDataModeEmptySessionSendOnlyDummyParticipant) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<dataMode>complete</dataMode>
<session session_id="00AA0800112233445566"></session>
<participant participant_id="11112222333344445555"><nameID aor="sip:5550100@192.0.2.1"></nameID></participant>
<participantstreamassoc participant_id="11112222333344445555"><send>aaaabbbbccccddddeeee</send></participantstreamassoc>
<participant participant_id="abcdef12345678901234"><nameID aor="sip:ASBCE@asbce.com"></nameID></participant>
<participantstreamassoc participant_id="abcdef12345678901234"></participantstreamassoc>
<stream stream_id="aaaabbbbccccddddeeee" session_id="00AA0800112233445566"><label>10</label></stream>
<stream stream_id="" session_id="00AA0800112233445566"><label>20</label></stream>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_EQ(md.data_mode, DataMode::kComplete);
  ASSERT_EQ(md.sessions.size(), 1u);
  EXPECT_EQ(md.sessions[0].id, "00AA0800112233445566");
  EXPECT_THAT(P(md, "11112222333344445555").send, ElementsAre("aaaabbbbccccddddeeee"));
  EXPECT_THAT(P(md, "11112222333344445555").recv, IsEmpty());
  const auto& dummy = P(md, "abcdef12345678901234");
  EXPECT_THAT(dummy.aors, ElementsAre("sip:ASBCE@asbce.com"));
  EXPECT_THAT(dummy.send, IsEmpty());  // no guess: the other participant is linked
  EXPECT_EQ(dummy.association, AssociationSource::kNone);
  EXPECT_THAT(md.problems, ElementsAre("stream without id (label '20')"));
}

TEST(MetadataTest, BroadWorksSiprecNamespaceSendIdChildrenAndExtension) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
  <dataMode>complete</dataMode>
  <recording id="urn:uuid:00000000-0000-4000-8000-000000000001"><requestor>SRC</requestor><type>selective</type></recording>
  <group id="urn:uuid:g" recording="urn:uuid:00000000-0000-4000-8000-000000000001"><initiator>sip:u1@bw.example</initiator></group>
  <session id="urn:uuid:s" group="urn:uuid:g"><start-time>2025-02-03T04:05:06+00:00</start-time></session>
  <participant id="urn:uuid:p1" session="urn:uuid:s"><aor>sip:u1@bw.example</aor><send>
      <id>urn:uuid:st</id>
    </send></participant>
  <participant id="urn:uuid:p2" session="urn:uuid:s"><aor>sip:7000@192.0.2.5;user=phone</aor><send><id>urn:uuid:st</id></send></participant>
  <stream id="urn:uuid:st" session="urn:uuid:s"><label>1</label><mode>mixed</mode></stream>
  <extensiondata id="urn:uuid:e" parent="urn:uuid:s">
    <broadWorksRecordingMetadata xmlns="http://schema.broadsoft.com/broadworksCallRecording" version="1.0">
      <callType><termCall><redirectInfo><numOfRedirections>1</numOfRedirections></redirectInfo></termCall></callType>
      <acd><acdUserId/><acdNumber countryCode="1">tel:+15550001111</acdNumber></acd>
    </broadWorksRecordingMetadata>
  </extensiondata>
</recording_metadata>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems, IsEmpty());
  EXPECT_EQ(md.namespace_kind, MetadataNamespace::kSiprecDraft);
  EXPECT_EQ(md.root_name, "recording_metadata");
  EXPECT_EQ(md.recording_id, "urn:uuid:00000000-0000-4000-8000-000000000001");
  EXPECT_THAT(md.groups.at(0).vendor, ElementsAre("<initiator>sip:u1@bw.example</initiator>"));
  EXPECT_THAT(md.sessions.at(0).group_refs, ElementsAre("urn:uuid:g"));
  EXPECT_THAT(P(md, "urn:uuid:p1").send, ElementsAre("urn:uuid:st"));
  EXPECT_THAT(P(md, "urn:uuid:p2").aors, ElementsAre("sip:7000@192.0.2.5;user=phone"));
  EXPECT_EQ(P(md, "urn:uuid:p2").association, AssociationSource::kParticipantSendRecv);
  EXPECT_EQ(md.streams.at(0).mode, StreamMode::kMixed);
  ASSERT_EQ(md.extensions.size(), 1u);
  EXPECT_EQ(md.extensions[0].parent, "urn:uuid:s");
  EXPECT_THAT(md.extensions[0].xml, HasSubstr("<numOfRedirections>1</numOfRedirections>"));
  EXPECT_THAT(md.extensions[0].xml, HasSubstr("<acdNumber countryCode=\"1\">"));
}

TEST(MetadataTest, MetaswitchRecordingIdMixedStreamUnnamespacedExtension) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording id="MREC1==" xmlns="urn:ietf:params:xml:ns:recording">
<datamode>complete</datamode>
<session session_id="MS1=="><start-time>2025-03-04T05:06:07Z</start-time></session>
<participant participant_id="MA=="><nameID aor="5550001"><name>5550001</name></nameID></participant>
<participantstreamassoc participant_id="MA=="><send>MX==</send><recv>MX==</recv></participantstreamassoc>
<participant participant_id="MB=="><nameID aor="5550002"><name>5550002</name></nameID></participant>
<participantstreamassoc participant_id="MB=="><send>MX==</send><recv>MX==</recv></participantstreamassoc>
<stream id="MX==" session_id="MS1=="><label>1</label></stream>
<extensiondata><metaswitchRecordingMetadata><callType>terminating</callType><dialedDigits>15550002</dialedDigits></metaswitchRecordingMetadata></extensiondata>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems, IsEmpty());
  EXPECT_EQ(md.recording_id, "MREC1==");
  EXPECT_EQ(md.FindStream("MX==")->session_id, "MS1==");
  EXPECT_THAT(P(md, "MA==").send, ElementsAre("MX=="));
  EXPECT_THAT(P(md, "MB==").recv, ElementsAre("MX=="));
  ASSERT_EQ(md.extensions.size(), 1u);
  EXPECT_EQ(md.extensions[0].parent, "");
  EXPECT_THAT(md.extensions[0].xml, HasSubstr("<callType>terminating</callType>"));
  const auto map = MapParticipantsToStreams(md, {"1"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_TRUE(map[0].mixed && map[1].mixed);
  EXPECT_FALSE(map[0].guessed());
}

TEST(MetadataTest, IntradoSingleParticipantGroupRoleChannel) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
<dataMode>complete</dataMode>
<group group_id="IG"><associate-time>2025-04-05T06:07:08-06:00</associate-time></group>
<session session_id="IS"><start-time>2025-04-05T06:07:08-06:00</start-time><group-ref>IG</group-ref></session>
<stream stream_id="IX"
session_id="IS"><label>1</label></stream>
<participant participant_id="IP"><nameID aor="5551234@192.0.2.44:5060"><name xml:lang="en"></name></nameID>
<channel>SIP/trunk-0001</channel><role>calling</role></participant>
<participantstreamassoc
participant_id="IP"><send>IX</send><recv>IX</recv></participantstreamassoc>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems, IsEmpty());
  EXPECT_EQ(md.groups.at(0).id, "IG");
  const auto& p = P(md, "IP");
  EXPECT_THAT(p.aors, ElementsAre("5551234@192.0.2.44:5060"));
  EXPECT_THAT(p.send, ElementsAre("IX"));
  EXPECT_THAT(p.recv, ElementsAre("IX"));
  EXPECT_THAT(p.unknown, ElementsAre("<channel>SIP/trunk-0001</channel>", "<role>calling</role>"));
}

TEST(MetadataTest, OpenSipsNoAssociationIsGuessedFromDocumentOrder) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
  <datamode>complete</datamode>
  <session session_id="OS"><sipSessionID>callid@192.0.2.3</sipSessionID></session>
  <participant participant_id="O1"><nameID aor="sip:100@192.0.2.3"><name>user;lang=en-US</name></nameID></participant>
  <participant participant_id="O2"><nameID aor="sip:200@pbx.example"/></participant>
  <stream stream_id="OA" session_id="OS"><label>1</label></stream>
  <stream stream_id="OB" session_id="OS"><label>2</label></stream>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.problems,
              ElementsAre("participant/stream association guessed from document order"));
  EXPECT_EQ(P(md, "O1").name, "user;lang=en-US");
  EXPECT_THAT(P(md, "O2").aors, ElementsAre("sip:200@pbx.example"));
  EXPECT_THAT(P(md, "O1").send, ElementsAre("OA"));
  EXPECT_THAT(P(md, "O2").send, ElementsAre("OB"));
  EXPECT_EQ(P(md, "O2").association, AssociationSource::kDocumentOrder);
}

TEST(MetadataTest, CubeInactiveEmptyAssociationsAreGuessed) {
  const auto md = ParseMetadata(R"(<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
    <datamode>complete</datamode>
    <session session_id="CS"><start-time>2025-05-06T07:08:09.100Z</start-time></session>
    <participant participant_id="C1"><nameID aor="sip:0700000001@192.0.2.8">
        </nameID></participant>
    <stream stream_id="CX" session_id="CS"><label>1</label></stream>
    <participant participant_id="C2"><nameID aor="sip:+15550000002@192.0.2.9"></nameID></participant>
    <stream stream_id="CY" session_id="CS"><label>2</label></stream>
    <participantstreamassoc participant_id="C1">
    </participantstreamassoc>
    <participantstreamassoc participant_id="C2"></participantstreamassoc>
</recording>)");
  EXPECT_TRUE(md.well_formed);
  EXPECT_TRUE(md.HasProblem("guessed from document order"));
  EXPECT_THAT(P(md, "C1").send, ElementsAre("CX"));
  EXPECT_THAT(P(md, "C2").send, ElementsAre("CY"));
  EXPECT_EQ(P(md, "C1").association, AssociationSource::kDocumentOrder);
}

// Oracle SBC in front of Genesys: an unescaped <sip:…> URI inside <apkt:request-uri>.
TEST(MetadataTest, GenesysUnescapedUriIsRepairedAndEverythingSalvaged) {
  const std::string xml = R"(<?xml version='1.0' encoding='UTF-8'?>
<recording xmlns='urn:ietf:params:xml:ns:recording'>
  <datamode>complete</datamode>
  <session id="GS"><associate-time>2024-01-01T00:00:00</associate-time></session>
  <participant id="GP1" session="GS">
    <nameID aor="sip:Genesys@192.0.2.30"><name>Genesys</name></nameID>
    <send>G1</send><send>G2</send>
    <extensiondata xmlns:apkt="http://acmepacket.com/siprec/extensiondata">
      <apkt:request-uri><sip:record=ABC_2024@192.0.2.31:5060;calluuid=ABC;media-id=ABC></apkt:request-uri>
      <apkt:realm>CORE</apkt:realm>
    </extensiondata>
  </participant>
  <participant id="GP2" session="GS">
    <nameID aor="sip:record=ABC@127.0.0.1"><name>record=ABC</name></nameID>
    <send>G3</send><send>G4</send>
  </participant>
  <stream id="G1" session="GS"><label>11</label></stream>
  <stream id="G2" session="GS"><label>13</label></stream>
  <stream id="G3" session="GS"><label>12</label></stream>
  <stream id="G4" session="GS"><label>14</label></stream>
</recording>)";
  const auto md = ParseMetadata(xml);
  EXPECT_FALSE(md.well_formed);
  EXPECT_EQ(md.raw, xml);
  EXPECT_TRUE(md.HasProblem("not well-formed XML at line 9"))
      << ::testing::PrintToString(md.problems);
  EXPECT_TRUE(md.HasProblem("repaired: escaped a stray '<' at line 9 column 25"));
  ASSERT_EQ(md.participants.size(), 2u);
  EXPECT_THAT(P(md, "GP1").send, ElementsAre("G1", "G2"));
  EXPECT_THAT(P(md, "GP2").send, ElementsAre("G3", "G4"));
  EXPECT_EQ(md.streams.size(), 4u);
  ASSERT_EQ(P(md, "GP1").extensions.size(), 1u);
  EXPECT_THAT(P(md, "GP1").extensions[0].xml, HasSubstr("&lt;sip:record=ABC_2024@"));
}

// BroadWorks body through a logger that stripped every tag (drachtio issue #6).
TEST(MetadataTest, BroadWorksMangledBodyHasNoElements) {
  const auto md = ParseMetadata(
      "<recording_metadata xmlns=\"urn:ietf:params:xml:ns:siprec\">completeSRCselectivesip:"
      "caller2019-01-13T14:48:35-05:00urn:uuid:e76f1mixed</recording_metadata>");
  EXPECT_TRUE(md.well_formed);
  EXPECT_THAT(md.participants, IsEmpty());
  EXPECT_THAT(md.problems, ElementsAre("no XML elements inside <recording_metadata>"));
  const auto text_only = ParseMetadata("completeSRCselectivesip:caller_name");
  EXPECT_FALSE(text_only.well_formed);
  EXPECT_TRUE(text_only.HasProblem("no XML elements"));
}

TEST(MetadataTest, ToJsonHasManifestFields) {
  const auto md = ParseMetadata(R"(<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<datamode>complete</datamode><participant participant_id="p1"><nameID aor="sip:a@b"><name> A </name></nameID></participant>
<stream stream_id="s1"><label>1</label></stream>
<participantstreamassoc participant_id="p1"><send>s1</send></participantstreamassoc></recording>)");
  const nlohmann::json j = ToJson(md);
  EXPECT_EQ(j["well_formed"], true);
  EXPECT_EQ(j["problems"], nlohmann::json::array());
  EXPECT_EQ(j["namespace"], "rfc7865");
  EXPECT_EQ(j["data_mode"], "complete");
  ASSERT_EQ(j["participants"].size(), 1u);
  EXPECT_EQ(j["participants"][0]["id"], "p1");
  EXPECT_EQ(j["participants"][0]["name"], "A");
  EXPECT_EQ(j["participants"][0]["aor"], "sip:a@b");
  EXPECT_EQ(j["participants"][0]["association"], "participantstreamassoc");
  EXPECT_EQ(j["streams"][0]["label"], "1");
  EXPECT_EQ(j["raw"], md.raw);
}

TEST(MetadataTest, ToJsonReplacesInvalidUtf8) {
  const auto md = ParseMetadata(
      "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"><participant participant_id=\"p\">"
      "<nameID aor=\"sip:a@b\"><name>Ren\xE9</name></nameID></participant></recording>");
  EXPECT_FALSE(md.well_formed);
  EXPECT_TRUE(md.HasProblem("invalid UTF-8 at line 1"));
  const std::string dumped = ToJson(md).dump();  // must not throw
  EXPECT_THAT(dumped, HasSubstr("Ren\xEF\xBF\xBD"));
}

}  // namespace
}  // namespace callvault::siprec
