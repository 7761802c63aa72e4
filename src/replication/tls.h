// Mutual TLS between cluster peers: every node has a certificate and key signed by the
// cluster's CA; the server asks for and verifies the client's certificate, the client verifies
// the server's; a certificate names its node by its subject CN or a DNS subjectAltName equal to
// the node id (docs/deployment.md shows how to make them with openssl).
//
// Called by: PeerServer (server context, the client's names), PeerClient (file names for curl),
// app/ (check-config). Thread-safety: pure functions.
#pragma once

#include <openssl/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace callvault::replication {

struct TlsFiles {
  std::string cert_file;  // PEM: this node's certificate (chain)
  std::string key_file;   // PEM: its private key
  std::string ca_file;    // PEM: the CA(s) peer certificates must chain to
};

// InvalidArgument naming the file and OpenSSL's reason when a file is missing or unusable, or
// when the key does not match the certificate.
Status ValidateTlsFiles(const TlsFiles& files);

// Configures a server context for mutual TLS (TLS 1.2+, our certificate and key, the CA, client
// certificates required and verified). The error names the file and OpenSSL's reason.
Status ConfigureServerContext(SSL_CTX* ctx, const TlsFiles& files);

// The names a certificate carries: its subject CN and its DNS subjectAltNames.
std::vector<std::string> CertificateNames(X509* cert);

// The names of the verified client certificate of a connection (empty without one).
std::vector<std::string> PeerCertificateNames(const SSL* ssl);

}  // namespace callvault::replication
