#include "replication/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>

namespace callvault::replication {
namespace {

std::string OpenSslReason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status Fail(const std::string& what) { return InvalidArgumentError(what + ": " + OpenSslReason()); }

}  // namespace

Status ConfigureServerContext(SSL_CTX* ctx, const TlsFiles& f) {
  ERR_clear_error();
  if (f.cert_file.empty() || f.key_file.empty() || f.ca_file.empty())
    return InvalidArgumentError("cluster TLS needs cert_file, key_file and ca_file");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, f.cert_file.c_str()) != 1)
    return Fail("certificate " + f.cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, f.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return Fail("private key " + f.key_file);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return Fail("private key " + f.key_file + " does not match " + f.cert_file);
  if (SSL_CTX_load_verify_locations(ctx, f.ca_file.c_str(), nullptr) != 1)
    return Fail("CA file " + f.ca_file);
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(f.ca_file.c_str());
  if (names == nullptr) return Fail("CA file " + f.ca_file);
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Clients resume sessions (curl keeps them per handle); with client certificates OpenSSL
  // refuses a resumption without a session id context ("internal error" alert).
  static const unsigned char kSessionContext[] = "callvault-cluster";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return Status::Ok();
}

Status ValidateTlsFiles(const TlsFiles& files) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  if (!ctx) return Fail("creating a TLS context");
  return ConfigureServerContext(ctx.get(), files);
}

std::vector<std::string> CertificateNames(X509* cert) {
  std::vector<std::string> names;
  if (cert == nullptr) return names;
  char cn[256];
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  if (n > 0) names.emplace_back(cn, static_cast<size_t>(n));
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_STRING* s = gn->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(sans);
  }
  return names;
}

std::vector<std::string> PeerCertificateNames(const SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  X509* cert = SSL_get1_peer_certificate(ssl);
  std::vector<std::string> names = CertificateNames(cert);
  X509_free(cert);
  return names;
}

}  // namespace callvault::replication
