#include "app/config.h"
#include "app/data_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "app/config_schema.h"
#include "app/config_tenants.h"
#include "app/version.h"

namespace callvault::app {
namespace {

using ::testing::HasSubstr;

// The error text of parsing `toml` as "config.toml" ("" when it parsed).
std::string ErrorOf(std::string_view toml, const std::vector<ConfigOverride>& overrides = {}) {
  Result<Config> c = ParseConfig(toml, "config.toml", overrides);
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(ConfigTest, EmptyFileIsTheEmbeddedDefaults) {
  Result<Config> c = ParseConfig("", "config.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.data_dir, "./data");
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(c->node.id, host);
  ASSERT_EQ(c->sip.listen.size(), 2u);
  EXPECT_EQ(c->sip.listen[0].ToString(), "udp:0.0.0.0:5060");
  EXPECT_EQ(c->sip.listen[1].ToString(), "tcp:0.0.0.0:5060");
  EXPECT_EQ(c->sip.workers, 0);
  EXPECT_EQ(c->sip.core.session_expires_s, 1800u);
  EXPECT_EQ(c->sip.core.min_se_s, 90u);
  EXPECT_EQ(c->sip.core.user_agent, std::string("callvault/") + kVersion);
  EXPECT_EQ(c->log.level, "info");
  EXPECT_EQ(c->log.format, "text");
  EXPECT_EQ(c->server.drain_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(ChangedKeys(*c, DefaultConfig()).empty());
}

// The table's defaults are the modules' own defaults (their headers document them too).
TEST(ConfigTest, TableDefaultsMatchModuleDefaults) {
  Config c = DefaultConfig();
  sip::CoreOptions core;
  EXPECT_EQ(c.sip.core.timers.t1, core.timers.t1);
  EXPECT_EQ(c.sip.core.timers.t2, core.timers.t2);
  EXPECT_EQ(c.sip.core.timers.t4, core.timers.t4);
  EXPECT_EQ(c.sip.core.session_expires_s, core.session_expires_s);
  EXPECT_EQ(c.sip.core.min_se_s, core.min_se_s);
  EXPECT_EQ(c.sip.core.public_host, core.public_host);
  EXPECT_EQ(c.sip.core.max_queue, core.max_queue);
  sip::TransportOptions t;
  EXPECT_EQ(c.sip.transport.max_message_bytes, t.max_message_bytes);
  EXPECT_EQ(c.sip.transport.idle_timeout, t.idle_timeout);
  EXPECT_EQ(c.sip.transport.header_timeout, t.header_timeout);
  EXPECT_EQ(c.sip.transport.max_connections, t.max_connections);
  EXPECT_EQ(c.sip.transport.tls_verify_peer, t.tls_verify_peer);
  LogOptions log;
  EXPECT_EQ(c.log.level, log.level);
  EXPECT_EQ(c.log.format, log.format);
  EXPECT_EQ(c.log.file, log.file);
  EXPECT_EQ(c.log.mask_numbers, log.mask_numbers);
}

TEST(ConfigTest, EveryKeyIsParsedIntoItsField) {
  Result<Config> c = ParseConfig(R"(
[node]
id = "rec-1"
data_dir = "/var/lib/callvault"

[sip]
listen = ["udp:127.0.0.1:0", "tcp:[::1]:5070"]
workers = 3
public_host = "rec1.example.com"
user_agent = "Recorder"
t1_ms = 250
t2_ms = 2000
t4_ms = 4000
session_expires_s = 600
min_se_s = 120
max_message_bytes = 8192
tcp_idle_timeout_s = 60
tcp_header_timeout_s = 5
max_connections = 100
max_queue = 50

[log]
level = "debug"
format = "json"
file = "/tmp/cv.log"
mask_numbers = true

[server]
drain_timeout_s = 5
)",
                                 "config.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.id, "rec-1");
  EXPECT_EQ(c->node.data_dir, "/var/lib/callvault");
  ASSERT_EQ(c->sip.listen.size(), 2u);
  EXPECT_EQ(c->sip.listen[0], (ListenSpec{"udp", "127.0.0.1", 0}));
  EXPECT_EQ(c->sip.listen[1], (ListenSpec{"tcp", "::1", 5070}));
  EXPECT_EQ(c->sip.workers, 3);
  EXPECT_EQ(c->sip.core.public_host, "rec1.example.com");
  EXPECT_EQ(c->sip.core.user_agent, "Recorder");
  EXPECT_EQ(c->sip.core.timers.t1, sip::Millis(250));
  EXPECT_EQ(c->sip.core.timers.t2, sip::Millis(2000));
  EXPECT_EQ(c->sip.core.timers.t4, sip::Millis(4000));
  EXPECT_EQ(c->sip.core.session_expires_s, 600u);
  EXPECT_EQ(c->sip.core.min_se_s, 120u);
  EXPECT_EQ(c->sip.core.max_queue, 50u);
  EXPECT_EQ(c->sip.transport.max_message_bytes, 8192u);
  EXPECT_EQ(c->sip.transport.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c->sip.transport.header_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->sip.transport.max_connections, 100u);
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->log.format, "json");
  EXPECT_EQ(c->log.file, "/tmp/cv.log");
  EXPECT_TRUE(c->log.mask_numbers);
  EXPECT_EQ(c->server.drain_timeout, std::chrono::seconds(5));
}

TEST(ConfigTest, OutOfRangeNamesFileLineColumnAndKey) {
  EXPECT_EQ(ErrorOf("[sip]\nworkers = 2\n  min_se_s = 30\n"),
            "config.toml:3:3: sip.min_se_s: must be >= 90 (RFC 4028), got 30");
  EXPECT_EQ(ErrorOf("[sip]\nt1_ms = 0\n"), "config.toml:2:1: sip.t1_ms: must be >= 1, got 0");
  EXPECT_EQ(ErrorOf("[server]\ndrain_timeout_s = 100000\n"),
            "config.toml:2:1: server.drain_timeout_s: must be <= 86400, got 100000");
}

TEST(ConfigTest, SessionExpiresBelowMinSe) {
  EXPECT_EQ(ErrorOf("[sip]\nmin_se_s = 120\nsession_expires_s = 100\n"),
            "config.toml:3:1: sip.session_expires_s: must be >= sip.min_se_s (120) (RFC 4028), "
            "got 100");
}

TEST(ConfigTest, T2BelowT1) {
  EXPECT_EQ(ErrorOf("[sip]\nt1_ms = 500\nt2_ms = 400\n"),
            "config.toml:3:1: sip.t2_ms: must be >= sip.t1_ms (500) (RFC 3261), got 400");
}

TEST(ConfigTest, UnknownKeyIsAnErrorWithASuggestion) {
  EXPECT_EQ(ErrorOf("[sip]\nmin_se = 90\n"),
            "config.toml:2:1: sip.min_se: unknown key (did you mean sip.min_se_s?)");
  EXPECT_EQ(ErrorOf("[sip]\nlevel = \"debug\"\n"),
            "config.toml:2:1: sip.level: unknown key (did you mean log.level?)");
  EXPECT_EQ(ErrorOf("[sip]\ncolour = 1\n"), "config.toml:2:1: sip.colour: unknown key");
  EXPECT_EQ(ErrorOf("[lgo]\nlevel = \"info\"\n"),
            "config.toml:1:2: lgo: unknown section (did you mean [log]?)");
  EXPECT_THAT(ErrorOf("workers = 2\n"), HasSubstr("config.toml:1:1: workers: unknown key"));
  EXPECT_EQ(ErrorOf("sip = 2\n"), "config.toml:1:1: sip: must be a table ([sip]), got integer");
}

// A wrong type points at the value; other errors point at the key.
TEST(ConfigTest, WrongTypes) {
  EXPECT_EQ(ErrorOf("[sip]\nworkers = \"four\"\n"),
            "config.toml:2:11: sip.workers: must be an integer, got string");
  EXPECT_EQ(ErrorOf("[log]\nmask_numbers = 1\n"),
            "config.toml:2:16: log.mask_numbers: must be a boolean (true or false), got integer");
  EXPECT_EQ(ErrorOf("[sip]\nlisten = \"udp:0.0.0.0:5060\"\n"),
            "config.toml:2:10: sip.listen: must be an array of strings, got string");
  EXPECT_EQ(ErrorOf("[sip]\nlisten = [\"udp:0.0.0.0:5060\", 5060]\n"),
            "config.toml:2:31: sip.listen[1]: must be a string, got integer");
  EXPECT_EQ(ErrorOf("[sip]\nt1_ms = 1.5\n"),
            "config.toml:2:9: sip.t1_ms: must be an integer, got float");
}

TEST(ConfigTest, BadListenEntriesPointAtTheEntry) {
  EXPECT_EQ(ErrorOf("[sip]\nlisten = [\"udp:0.0.0.0:5060\", \"sctp:0.0.0.0:5060\"]\n"),
            "config.toml:2:31: sip.listen[1]: \"sctp:0.0.0.0:5060\": unknown transport \"sctp\" "
            "(want udp|tcp|tls:ADDRESS:PORT, e.g. \"udp:0.0.0.0:5060\" or \"tcp:[::]:5060\")");
  EXPECT_THAT(ErrorOf("[sip]\nlisten = [\"udp:0.0.0.0:70000\"]\n"),
              HasSubstr("sip.listen[0]: \"udp:0.0.0.0:70000\": port must be a number 0-65535"));
  EXPECT_THAT(ErrorOf("[sip]\nlisten = [\"tcp:example.com:5060\"]\n"),
              HasSubstr("not an IPv4 address"));
  EXPECT_THAT(ErrorOf("[sip]\nlisten = [\"tcp:::1:5060\"]\n"),
              HasSubstr("IPv6 address must be in brackets"));
  EXPECT_EQ(ErrorOf("[sip]\nlisten = []\n"),
            "config.toml:2:1: sip.listen: must name at least one listener");
  EXPECT_EQ(ErrorOf("[sip]\nlisten = [\"udp:0.0.0.0:5060\", \"udp:0.0.0.0:5060\"]\n"),
            "config.toml:2:1: sip.listen: \"udp:0.0.0.0:5060\" is listed twice");
}

TEST(ConfigTest, ParseListenSpec) {
  auto v6 = ParseListenSpec("tls:[2001:db8::1]:5061");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(*v6, (ListenSpec{"tls", "2001:db8::1", 5061}));
  EXPECT_EQ(v6->ToString(), "tls:[2001:db8::1]:5061");
  auto any = ParseListenSpec("udp:127.0.0.1:0");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->port, 0);
  EXPECT_FALSE(ParseListenSpec("udp").ok());
  EXPECT_FALSE(ParseListenSpec("udp:1.2.3.4").ok());
  EXPECT_FALSE(ParseListenSpec("udp:1.2.3.4:").ok());
  EXPECT_FALSE(ParseListenSpec("udp:1.2.3.4:-1").ok());
  EXPECT_FALSE(ParseListenSpec("udp:[::1]5060").ok());
  EXPECT_FALSE(ParseListenSpec("udp:[1.2.3.4]:5060").ok());
}

TEST(ConfigTest, TlsListenerWithoutCertificate) {
  EXPECT_EQ(ErrorOf("[sip]\nlisten = [\"udp:0.0.0.0:5060\", \"tls:0.0.0.0:5061\"]\n"),
            "config.toml:2:1: sip.listen: listener \"tls:0.0.0.0:5061\" needs "
            "sip.tls_certificate and sip.tls_private_key");
}

TEST(ConfigTest, TlsFilesMustBeReadableAndPaired) {
  EXPECT_EQ(ErrorOf("[sip]\ntls_certificate = \"/nonexistent/cert.pem\"\n"),
            "config.toml:2:1: sip.tls_certificate: cannot read \"/nonexistent/cert.pem\": No such "
            "file or directory");
  // A readable file stands in for the PEM files: the transport checks their content.
  std::string readable = std::string(CALLVAULT_SOURCE_DIR) + "/CMakeLists.txt";
  EXPECT_EQ(ErrorOf("[sip]\ntls_private_key = \"" + readable + "\"\n"),
            "config.toml:2:1: sip.tls_private_key: is set but sip.tls_certificate is not");
  EXPECT_EQ(ErrorOf("[sip]\nlisten = [\"tls:0.0.0.0:5061\"]\ntls_certificate = \"" + readable +
                    "\"\ntls_private_key = \"" + readable + "\"\n"),
            "");
  EXPECT_EQ(ErrorOf("[sip]\ntls_verify_peer = true\n"),
            "config.toml:2:1: sip.tls_verify_peer: needs sip.tls_ca (the CAs client certificates "
            "are verified against)");
}

TEST(ConfigTest, ChoicesAndStrings) {
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"verbose\"\n"),
            "config.toml:2:1: log.level: must be one of trace, debug, info, warn, error, got "
            "\"verbose\"");
  EXPECT_EQ(ErrorOf("[log]\nformat = \"xml\"\n"),
            "config.toml:2:1: log.format: must be one of text, json, got \"xml\"");
  EXPECT_EQ(ErrorOf("[node]\nid = \"a b\"\n"),
            "config.toml:2:1: node.id: may contain only letters, digits, '.', '-' and '_', got "
            "\"a b\"");
  EXPECT_EQ(ErrorOf("[node]\ndata_dir = \"\"\n"),
            "config.toml:2:1: node.data_dir: must not be empty");
  EXPECT_THAT(ErrorOf("[sip]\nuser_agent = \"a\\r\\nX-Injected: 1\"\n"),
              HasSubstr("sip.user_agent: must not contain control characters"));
}

TEST(ConfigTest, DottedKeysAndInlineTablesWork) {
  Result<Config> c = ParseConfig("sip.min_se_s = 120\nlog = { level = \"warn\" }\n", "x.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sip.core.min_se_s, 120u);
  EXPECT_EQ(c->log.level, "warn");
}

TEST(ConfigTest, EveryProblemIsReportedOnItsOwnLine) {
  EXPECT_EQ(ErrorOf("[sip]\nmin_se_s = 30\nworkers = -1\nbogus = 1\n"),
            "config.toml:4:1: sip.bogus: unknown key\n"
            "config.toml:3:1: sip.workers: must be >= 0, got -1\n"
            "config.toml:2:1: sip.min_se_s: must be >= 90 (RFC 4028), got 30");
}

TEST(ConfigTest, TomlSyntaxErrorHasPosition) {
  EXPECT_THAT(ErrorOf("[sip]\nworkers = = 2\n"), HasSubstr("config.toml:2:"));
  EXPECT_THAT(ErrorOf("[sip]\nworkers = = 2\n"), HasSubstr(": TOML syntax: "));
  EXPECT_THAT(ErrorOf("[sip]\nworkers = 1\nworkers = 2\n"), HasSubstr("config.toml:3:"));
}

TEST(ConfigTest, OverridesWinAndAreValidatedWithTheirFlagName) {
  std::vector<ConfigOverride> o = {{"log.level", std::string("debug"), "--log-level"},
                                   {"node.data_dir", std::string("/tmp/x"), "--data-dir"}};
  Result<Config> c = ParseConfig("[log]\nlevel = \"error\"\n", "config.toml", o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->node.data_dir, "/tmp/x");
  EXPECT_EQ(ErrorOf("", {{"log.level", std::string("loud"), "--log-level"}}),
            "--log-level: log.level: must be one of trace, debug, info, warn, error, got "
            "\"loud\"");
}

TEST(ConfigTest, LoadConfigReadsTheFileAndNamesIt) {
  char dir_template[] = "/tmp/cv_config_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string path = std::string(dir_template) + "/node.toml";
  std::ofstream(path) << "[sip]\n\nmin_se_s = 30\n";
  Result<Config> c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path + ":3:1: sip.min_se_s: must be >= 90 (RFC 4028), got 30");
  Result<Config> missing = LoadConfig(path + ".nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(path + ".nope"));
  Result<Config> defaults = LoadConfig("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->source, "(embedded defaults)");
  std::remove(path.c_str());
  rmdir(dir_template);
}

TEST(ConfigTest, ChangedKeysAndReload) {
  Config a = DefaultConfig();
  Result<Config> b = ParseConfig(
      "[log]\nlevel = \"debug\"\n[sip]\nworkers = 4\n[server]\ndrain_timeout_s = 1\n", "x");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ChangedKeys(a, *b),
            (std::vector<std::string>{"sip.workers", "log.level", "server.drain_timeout_s"}));
  EXPECT_TRUE(IsReloadable("log.level"));
  EXPECT_FALSE(IsReloadable("sip.workers"));
  EXPECT_FALSE(IsReloadable("no.such"));
  ApplyReloadable(*b, &a);
  EXPECT_EQ(a.log.level, "debug");
  EXPECT_EQ(a.server.drain_timeout, std::chrono::seconds(1));
  EXPECT_EQ(a.sip.workers, 0);  // needs a restart: not applied
}

TEST(ConfigTest, EveryKeyHasADescriptionAndAValidDefault) {
  for (const auto& key : ConfigKeys()) {
    SCOPED_TRACE(key.FullName());
    EXPECT_FALSE(key.description.empty());
    EXPECT_NE(key.set, nullptr);
    EXPECT_NE(key.get, nullptr);
    EXPECT_EQ(FindConfigKey(key.FullName()), &key);
    EXPECT_EQ(ConfigValueToToml(key.default_value).empty(), false);
  }
}

// The reference's example (every key at its default) is itself a valid config equal to the
// defaults.
TEST(ConfigTest, ReferenceExampleParsesToTheDefaults) {
  std::string doc = RenderConfigReference();
  size_t begin = doc.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  size_t end = doc.find("```", begin);
  Result<Config> c = ParseConfig(doc.substr(begin, end - begin), "example");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(ChangedKeys(*c, DefaultConfig()).empty());
}

// docs/configuration.md is generated from the key table; it must not drift.
TEST(ConfigTest, DocsConfigurationMdIsInSync) {
  std::string path = std::string(CALLVAULT_SOURCE_DIR) + "/docs/configuration.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_TRUE(buf.str() == RenderConfigReference())
      << path << " differs from the key table in src/app/config_schema.cc. Regenerate it:\n"
      << "  build/<preset>/src/app/callvault config-reference > docs/configuration.md";
}

}  // namespace
}  // namespace callvault::app

namespace callvault::app {
namespace {

TEST(ConfigStorageTest, RetentionPoliciesAreTablesWithCheckedFields) {
  Result<Config> c = ParseConfig(R"(
[retention.policies.default]
older_than_days = 365
[retention.policies.acme_short]
older_than_days = 30
tenant = "acme"
tags = ["short", "test"]
states = ["partial", "timed_out"]
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->retention.policies.size(), 2u);
  const RetentionPolicy& p = c->retention.policies[0];  // TOML tables iterate sorted
  EXPECT_EQ(p.name, "acme_short");
  EXPECT_EQ(p.older_than_days, 30);
  EXPECT_EQ(p.tenant, "acme");
  EXPECT_EQ(p.tags, (std::vector<std::string>{"short", "test"}));
  EXPECT_EQ(p.states, (std::vector<std::string>{"partial", "timed_out"}));
  EXPECT_EQ(c->retention.policies[1].older_than_days, 365);

  Result<Config> bad = ParseConfig(R"(
[retention.policies.x]
tenant = 5
color = "red"
[retention.policies.y]
tenant = "a"
)", "t.toml");
  ASSERT_FALSE(bad.ok());
  const std::string msg(bad.status().message());
  EXPECT_NE(msg.find("t.toml:3:10: retention.policies.x.tenant: must be a string"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("retention.policies.x.color: unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("retention.policies.y: needs older_than_days"), std::string::npos) << msg;
}

TEST(ConfigStorageTest, S3BackendNeedsItsBucketAndCredentials) {
  Result<Config> c = ParseConfig("[storage]\nbackend = \"s3\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("s3.bucket: must be set when storage.backend = \"s3\""),
            std::string::npos)
      << c.status().message();
  Result<Config> ok = ParseConfig(R"(
[storage]
backend = "s3"
relocate_after_s = 60
[s3]
endpoint = "http://127.0.0.1:9000"
bucket = "calls"
access_key_id = "AK"
secret_access_key_file = "/etc/callvault/s3.secret"
)", "t.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->storage.relocate_after_s, 60);
  EXPECT_EQ(ok->s3.bucket, "calls");
  EXPECT_TRUE(ok->s3.path_style);
}

}  // namespace
}  // namespace callvault::app

namespace callvault::app {
namespace {

constexpr char kClusterBase[] = R"(
[node]
id = "rec-a"
[cluster]
listen = "0.0.0.0:5443"
cert_file = "/etc/callvault/rec-a.crt"
key_file = "/etc/callvault/rec-a.key"
ca_file = "/etc/callvault/ca.crt"
)";

TEST(ConfigClusterTest, PeersAreTablesWithSchedulesRelayAndRateCaps) {
  Result<Config> c = ParseConfig(std::string(kClusterBase) + R"(
[[cluster.peers]]
id = "rec-b"
url = "https://rec-b.example.com:5443/"
[[cluster.peers]]
id = "rec-dr"
url = "https://10.1.0.9:5443"
schedule = "22:00-06:00"
relay = true
max_mbps = 50
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->cluster.peers.size(), 2u);
  EXPECT_EQ(c->cluster.peers[0].id, "rec-b");
  EXPECT_EQ(c->cluster.peers[0].url, "https://rec-b.example.com:5443");  // trailing / dropped
  EXPECT_EQ(c->cluster.peers[0].schedule, "continuous");
  EXPECT_TRUE(c->cluster.peers[1].relay);
  EXPECT_EQ(c->cluster.peers[1].max_mbps, 50);
  EXPECT_EQ(c->cluster.peers[1].schedule, "22:00-06:00");
}

TEST(ConfigClusterTest, BadPeersAreRefusedOneLineEach) {
  Result<Config> bad = ParseConfig(std::string(kClusterBase) + R"(
[[cluster.peers]]
id = "Rec B"
url = "http://rec-b:5443"
[[cluster.peers]]
url = "https://x:1"
schedule = "25:00-01:00"
[[cluster.peers]]
id = "rec-a"
url = "https://rec-a:5443"
color = "red"
)", "t.toml");
  ASSERT_FALSE(bad.ok());
  const std::string msg(bad.status().message());
  EXPECT_NE(msg.find("cluster.peers[0].url: must be https://"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cluster.peers[1].schedule"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cluster.peers[2].color: unknown key"), std::string::npos) << msg;
}

TEST(ConfigClusterTest, ASharedBucketNeedsS3Storage) {
  const std::string peer = R"(
[[cluster.peers]]
id = "rec-b"
url = "https://rec-b:5443"
shared_bucket = true
)";
  Result<Config> c = ParseConfig(std::string(kClusterBase) + peer, "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("shared_bucket = true: it needs storage.backend"),
            std::string::npos)
      << c.status().message();
  c = ParseConfig(std::string(kClusterBase) + R"(
[storage]
backend = "s3"
[s3]
endpoint = "http://127.0.0.1:9000"
bucket = "calls"
access_key_id = "k"
secret_access_key_file = "/etc/callvault/s3.secret"
)" + peer, "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->cluster.peers[0].shared_bucket);
  const DataDir d = DataDirOf(*c);
  EXPECT_EQ(d.shared_peer_queues(), std::vector<std::string>{"peer.rec-b"});
  EXPECT_TRUE(d.audio_peer_queues().empty());
  EXPECT_EQ(d.finished_call_queues(), (std::vector<std::string>{"catalog", "relocation"}));
  DataDir mixed = d;  // a peer that gets the audio: queued before relocation
  mixed.peers.push_back("rec-dr");
  EXPECT_EQ(mixed.finished_call_queues(),
            (std::vector<std::string>{"catalog", "peer.rec-dr", "relocation"}));
  EXPECT_EQ(d.all_queues(), (std::vector<std::string>{"catalog", "relocation", "peer.rec-b"}));
}

TEST(ConfigClusterTest, PeersNeedAnExplicitNodeIdTheTlsFilesAndAListener) {
  Result<Config> c = ParseConfig(R"(
[[cluster.peers]]
id = "rec-b"
url = "https://rec-b:5443"
)", "t.toml");
  ASSERT_FALSE(c.ok());
  const std::string msg(c.status().message());
  EXPECT_NE(msg.find("node.id: must be set when [[cluster.peers]]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cluster.listen: must be set"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cluster.ca_file: must be set"), std::string::npos) << msg;
  c = ParseConfig(std::string(kClusterBase) + R"(
[[cluster.peers]]
id = "rec-a"
url = "https://rec-a:5443"
)", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("is this node"), std::string_view::npos);
  // Without peers the hostname default is fine (a single node).
  EXPECT_TRUE(ParseConfig("", "t.toml").ok());
}

}  // namespace
}  // namespace callvault::app

namespace callvault::app {
namespace {

TEST(ConfigTenantsTest, RulesAreTablesInOrderWithTheirPosition) {
  Result<Config> c = ParseConfig(R"([tenants]
default = "house"
unknown = "refuse"

[[tenants.rule]]
tenant = "acme"
src = ["127.0.0.2", "10.1.0.0/16"]

[[tenants.rule]]
tenant = "{value}"
header = "X-Tenant"

[[tenants.rule]]
tenant = "pai"
header = "P-Asserted-Identity"
part = "domain"
value = "*.pai.example"
from_domain = "sbc.example"
participant_number = ["+4420", "0800"]
)",
                                 "config.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tenants.default_tenant, "house");
  EXPECT_EQ(c->tenants.unknown, "refuse");
  ASSERT_EQ(c->tenants.rules.size(), 3u);
  EXPECT_EQ(c->tenants.rules[0].tenant, "acme");
  EXPECT_EQ(c->tenants.rules[0].src, (std::vector<std::string>{"127.0.0.2", "10.1.0.0/16"}));
  EXPECT_EQ(c->tenants.rules[0].where, "config.toml:5:1");
  EXPECT_EQ(c->tenants.rules[1].tenant, "{value}");
  EXPECT_EQ(c->tenants.rules[1].header, "X-Tenant");
  EXPECT_EQ(c->tenants.rules[2].header_part, "domain");
  EXPECT_EQ(c->tenants.rules[2].header_value, (std::vector<std::string>{"*.pai.example"}));
  EXPECT_EQ(c->tenants.rules[2].participant_number,
            (std::vector<std::string>{"+4420", "0800"}));
  Result<std::vector<siprec::TenantRule>> built = BuildTenantRules(c->tenants);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ((*built)[2].header_part, siprec::HeaderPart::kDomain);
  EXPECT_EQ(ParseConfig("", "x").value().tenants.unknown, "default");
}

TEST(ConfigTenantsTest, BadCidrsAndPatternsNameFileLineColumn) {
  const std::string msg = ErrorOf(R"([[tenants.rule]]
tenant = "acme"
src = ["127.0.0.2", "10.1.2.3/16"]

[[tenants.rule]]
tenant = "b"
to_domain = ["ok.example", "bad domain"]

[[tenants.rule]]
tenant = "c"
participant_number = "44+20"

[[tenants.rule]]
tenant = "d"
src = "10.0.0.0/40"
)");
  EXPECT_THAT(msg, HasSubstr("config.toml:3:21: tenants.rule[0].src: \"10.1.2.3/16\" has host "
                             "bits set below the /16 prefix (did you mean 10.1.0.0/16?)"));
  EXPECT_THAT(msg, HasSubstr("config.toml:7:28: tenants.rule[1].to_domain: \"bad domain\" is "
                             "not a domain pattern"));
  EXPECT_THAT(msg, HasSubstr("config.toml:11:22: tenants.rule[2].participant_number: \"44+20\""));
  EXPECT_THAT(msg, HasSubstr("config.toml:15:7: tenants.rule[3].src: \"10.0.0.0/40\": the prefix "
                             "length must be 0–32"));
}

TEST(ConfigTenantsTest, IncompleteRulesAreRefused) {
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\nsrc = \"10.0.0.0/8\"\n"),
              HasSubstr("config.toml:1:1: tenants.rule[0]: needs tenant"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"a\"\n"),
              HasSubstr("tenants.rule[0]: has no condition"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"{value}\"\nsrc = \"10.0.0.0/8\"\n"),
              HasSubstr("tenants.rule[0].tenant: \"{value}\" needs header"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"a\"\nsrc = \"10.0.0.0/8\"\nvalue = \"x\"\n"),
              HasSubstr("config.toml:4:9: tenants.rule[0]: part and value need header"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"a\"\nheader = \"X-T\"\npart = \"host\"\n"),
              HasSubstr("tenants.rule[0].part: must be one of value, user, domain"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"a\"\nheader = \"X T\"\n"),
              HasSubstr("tenants.rule[0].header: \"X T\" is not a SIP header name"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"a\"\nsrc = []\n"),
              HasSubstr("tenants.rule[0].src: must not be empty"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"a\"\ncolour = \"red\"\n"),
              HasSubstr("config.toml:3:1: tenants.rule[0].colour: unknown key (a rule has"));
  EXPECT_THAT(ErrorOf("[[tenants.rule]]\ntenant = \"(no tenant)\"\nsrc = \"10.0.0.0/8\"\n"),
              HasSubstr("reserved"));
  EXPECT_THAT(ErrorOf("[tenants]\nrule = \"x\"\n"),
              HasSubstr("tenants.rule: must be tables ([[tenants.rule]])"));
  EXPECT_THAT(ErrorOf("[tenants]\nunknown = \"drop\"\n"),
              HasSubstr("tenants.unknown: must be one of default, refuse"));
  EXPECT_THAT(ErrorOf("[tenants]\ndefault = \"a{b}\"\n"), HasSubstr("tenants.default: \"a{b}\""));
}

}  // namespace
}  // namespace callvault::app
