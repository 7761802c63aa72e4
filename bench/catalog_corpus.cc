#include "catalog_corpus.h"

#include <random>
#include <string>
#include <vector>

#include "catalog/testing/manifests.h"

namespace callvault::bench {

recording::Manifest CorpusManifest(int64_t i, int64_t n) {
  namespace testing = catalog::testing;
  std::mt19937_64 rng(static_cast<uint64_t>(i) * 7919 + 1);
  testing::ManifestSpec s;
  s.started_ms = CorpusStartedMs(i, n);
  s.call_id = testing::TestCallId(s.started_ms, static_cast<uint64_t>(i));
  s.node_id = "rec-" + std::string(1, static_cast<char>('a' + rng() % 3));
  s.tenant = "tenant" + std::to_string(rng() % 5);
  const uint64_t st = rng() % 20;
  s.state = st == 0 ? "timed_out" : st == 1 ? "partial" : "completed";
  s.duration_ms = 5000 + static_cast<int64_t>(rng() % 1800000);
  auto person = [&] {
    return std::string(kFirst[rng() % 20]) + " " + kLast[rng() % 20] + std::to_string(rng() % 50);
  };
  const std::string caller_number = "+1555" + std::to_string(1000000 + rng() % 9000000);
  const std::string callee_number = std::to_string(2000 + rng() % 8000);
  s.participants = {{person(), "sip:" + caller_number + "@gw.example.com", 0},
                    {person(), "sip:" + callee_number + "@pbx.example.com", 1}};
  std::vector<std::string> raws = {
      testing::MetadataXml(s.participants, "sess" + std::to_string(i))};
  if (i % 100 == 0) {
    raws.push_back("<extra><note>escalation ticket " + std::to_string(i) + "</note></extra>");
  }
  s.metadata_raw = raws;
  return testing::MakeManifest(s);
}

}  // namespace callvault::bench
