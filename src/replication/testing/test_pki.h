// A throw-away certificate authority for tests: a CA and one certificate + key per node id,
// each naming the node (CN and DNS SAN) and the loopback addresses (IP SANs), written as PEM
// files into a directory. Also a certificate from another CA, to test refusals.
//
// Called by: replication tests, tests/cluster (through `callvault_test_pki`).
// Thread-safety: functions over files; no shared state.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "replication/tls.h"

namespace callvault::replication::testing {

struct TestPki {
  std::string dir;
  std::string ca_file;
  // <dir>/<name>.crt, <dir>/<name>.key and the CA.
  TlsFiles For(const std::string& name) const {
    return {dir + "/" + name + ".crt", dir + "/" + name + ".key", ca_file};
  }
};

// Makes <dir>/ca.crt and a certificate for each name, valid for a day, with IP SANs `ips`
// (default 127.0.0.1 and ::1). `rogue_names` get certificates from a second, unrelated CA.
Result<TestPki> MakeTestPki(const std::string& dir, const std::vector<std::string>& names,
                            const std::vector<std::string>& rogue_names = {},
                            const std::vector<std::string>& ips = {"127.0.0.1", "::1"});

}  // namespace callvault::replication::testing
