#include "replication/testing/test_calls.h"

#include <fmt/format.h>

#include <random>

#include "catalog/testing/manifests.h"
#include "crypto/sha256.h"

namespace callvault::replication::testing {

TestCall WriteTestCall(const std::string& recordings, int n, size_t bytes,
                       const std::string& node_id, const std::string& audio_file) {
  TestCall c;
  catalog::testing::ManifestSpec spec;
  spec.started_ms = 1795593600000 + int64_t{n} * 1000;
  spec.call_id = catalog::testing::TestCallId(spec.started_ms, static_cast<uint64_t>(n));
  spec.node_id = node_id;
  nlohmann::json m = catalog::testing::MakeManifestJson(spec);
  c.call_id = spec.call_id;
  c.audio_file = audio_file.empty() ? fmt::format("2026/11/25/call_{:05}.wav", n) : audio_file;
  std::mt19937_64 rng(static_cast<uint64_t>(n) * 7919 + bytes);
  c.audio.resize(bytes);
  for (char& ch : c.audio) ch = static_cast<char>(rng());
  m["audio"]["file"] = c.audio_file;
  m["audio"]["bytes"] = bytes;
  m["audio"]["sha256"] = crypto::Sha256Hex(c.audio);
  c.manifest = m.dump(2) + "\n";
  Fs& fs = *DefaultFs();
  const std::string path = recordings + "/" + c.audio_file;
  fs.CreateDirs(DirName(path)).IgnoreError();
  WriteFileDurably(fs, path, c.audio).IgnoreError();
  WriteFileDurably(fs, path + ".json", c.manifest).IgnoreError();
  c.entry = outbox::Entry{.call_id = c.call_id,
                          .manifest = c.audio_file + ".json",
                          .state = "completed",
                          .finalized = m["times"]["finalized"].get<std::string>()};
  return c;
}

}  // namespace callvault::replication::testing
