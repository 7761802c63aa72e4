// OpenSSL 3 contexts for the TLS transport (sip/internal/transport_connection.h).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509err.h>

#include <filesystem>

#include "sip/internal/transport_connection.h"

namespace callvault::sip::internal {
namespace {

// Settings shared by both directions: TLS >= 1.2, no renegotiation, partial writes (the I/O
// thread retries the rest of a record), buffers released while idle (thousands of connections).
void CommonSettings(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
}

Status LoadCertificate(SSL_CTX* ctx, const TransportOptions& o) {
  for (const std::string* f : {&o.tls_certificate_file, &o.tls_private_key_file}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*f, ec)) {
      return InvalidArgumentError("TLS file \"" + *f + "\" does not exist or is not a file");
    }
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, o.tls_certificate_file.c_str()) != 1) {
    return InvalidArgumentError("loading TLS certificate \"" + o.tls_certificate_file +
                                "\": " + OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, o.tls_private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return InvalidArgumentError(
        "loading TLS private key \"" + o.tls_private_key_file + "\": " +
        (mismatch ? "it does not match certificate \"" + o.tls_certificate_file + "\": " : "") +
        OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgumentError("TLS private key \"" + o.tls_private_key_file +
                                "\" does not match certificate \"" + o.tls_certificate_file +
                                "\": " + OpenSslErrors());
  }
  return Status::Ok();
}

Status LoadCa(SSL_CTX* ctx, const TransportOptions& o) {
  if (o.tls_ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return InvalidArgumentError("loading the system CA store: " + OpenSslErrors());
    }
    return Status::Ok();
  }
  if (SSL_CTX_load_verify_locations(ctx, o.tls_ca_file.c_str(), nullptr) != 1) {
    return InvalidArgumentError("loading TLS CA file \"" + o.tls_ca_file +
                                "\": " + OpenSslErrors());
  }
  return Status::Ok();
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error" : out;
}

Result<SSL_CTX*> MakeServerTlsContext(const TransportOptions& o) {
  if (o.tls_certificate_file.empty() || o.tls_private_key_file.empty()) {
    return InvalidArgumentError(
        "a TLS listener needs tls_certificate_file and tls_private_key_file");
  }
  if (o.tls_verify_peer && o.tls_ca_file.empty()) {
    return InvalidArgumentError("tls_verify_peer needs tls_ca_file");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return InternalError("SSL_CTX_new: " + OpenSslErrors());
  CommonSettings(ctx);
  Status s = LoadCertificate(ctx, o);
  if (s.ok() && o.tls_verify_peer) {
    s = LoadCa(ctx, o);
    if (s.ok()) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_ca_file.c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    }
  }
  if (!s.ok()) {
    SSL_CTX_free(ctx);
    return s;
  }
  return ctx;
}

Result<SSL_CTX*> MakeClientTlsContext(const TransportOptions& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return InternalError("SSL_CTX_new: " + OpenSslErrors());
  CommonSettings(ctx);
  Status s;
  if (!o.tls_certificate_file.empty() && !o.tls_private_key_file.empty()) {
    s = LoadCertificate(ctx, o);
  }
  if (s.ok() && o.tls_verify_server) {
    s = LoadCa(ctx, o);
    if (s.ok()) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else if (s.ok()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!s.ok()) {
    SSL_CTX_free(ctx);
    return s;
  }
  return ctx;
}

}  // namespace callvault::sip::internal
