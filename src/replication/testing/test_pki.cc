#include "replication/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

#include "base/fs.h"

namespace callvault::replication::testing {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

void AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext) {
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
}

CertPtr NewCert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                long serial, bool ca, const std::string& san) {
  CertPtr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(cert.get(), signer, NID_basic_constraints, "CA:FALSE");
    AddExt(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    AddExt(cert.get(), signer, NID_subject_alt_name, san);
  }
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return IoError("writing " + path, errno);
  bool ok = cert ? PEM_write_X509(f, cert) == 1
                 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  return ok ? Status::Ok() : InternalError("PEM write of " + path + " failed");
}

}  // namespace

Result<TestPki> MakeTestPki(const std::string& dir, const std::vector<std::string>& names,
                            const std::vector<std::string>& rogue_names,
                            const std::vector<std::string>& ips) {
  CV_RETURN_IF_ERROR(DefaultFs()->CreateDirs(dir));
  TestPki pki{dir, dir + "/ca.crt"};
  KeyPtr ca_key = NewKey(), rogue_key = NewKey();
  CertPtr ca = NewCert("callvault test CA", ca_key.get(), nullptr, nullptr, 1, true, "");
  CertPtr rogue = NewCert("rogue CA", rogue_key.get(), nullptr, nullptr, 1, true, "");
  CV_RETURN_IF_ERROR(WritePem(pki.ca_file, ca.get(), nullptr));
  long serial = 100;
  auto issue = [&](const std::string& n, X509* issuer, EVP_PKEY* issuer_key) -> Status {
    std::string san = "DNS:" + n + ",DNS:localhost";
    for (const std::string& ip : ips) san += ",IP:" + ip;
    KeyPtr key = NewKey();
    CertPtr cert = NewCert(n, key.get(), issuer, issuer_key, ++serial, false, san);
    CV_RETURN_IF_ERROR(WritePem(dir + "/" + n + ".crt", cert.get(), nullptr));
    return WritePem(dir + "/" + n + ".key", nullptr, key.get());
  };
  for (const std::string& n : names) CV_RETURN_IF_ERROR(issue(n, ca.get(), ca_key.get()));
  for (const std::string& n : rogue_names)
    CV_RETURN_IF_ERROR(issue(n, rogue.get(), rogue_key.get()));
  return pki;
}

}  // namespace callvault::replication::testing
