#include "crypto/master_key.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <filesystem>
#include <system_error>

#include "crypto/internal/aead.h"

namespace callvault::crypto {
namespace {

// The absolute, normalised form of `path` with every existing prefix's symlinks resolved
// (std::filesystem::weakly_canonical only reads: it never changes the filesystem).
std::string Resolved(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(p, ec);
  return (ec ? p.lexically_normal() : canonical).string();
}

bool IsInside(const std::string& path, const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (d == "/") return true;
  return path == d || path.starts_with(d + "/");
}

// Wipes a std::string's bytes (the key material read from the file) when it goes out of scope.
struct Wiped {
  std::string bytes;
  ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

Result<MasterKey> LoadMasterKey(Fs& fs, const std::string& path, const std::string& data_dir) {
  if (path.empty()) return InvalidArgumentError("master key file: no path configured");
  const std::string resolved = Resolved(path);
  if (!data_dir.empty() && IsInside(resolved, Resolved(data_dir))) {
    return PermissionDeniedError(
        fmt::format("master key file {} lies inside the data directory {}: keep it elsewhere "
                    "(a copy or backup of the data directory must not hold the key)",
                    path, data_dir));
  }
  CV_ASSIGN_OR_RETURN(uint32_t mode, fs.FileMode(path));
  if ((mode & 077) != 0) {
    return PermissionDeniedError(fmt::format(
        "master key file {} has mode {:04o}: it must not be accessible to group or other "
        "(chmod 600 {})",
        path, mode, path));
  }
  Wiped content;
  { CV_ASSIGN_OR_RETURN(content.bytes, fs.ReadFile(path)); }
  MasterKey master;
  master.path = path;
  if (content.bytes.size() == SecretKey::kSize) {
    master.key = SecretKey::FromBytes(content.bytes);
    return master;
  }
  std::string_view text = content.bytes;
  if (text.ends_with("\n")) text.remove_suffix(1);
  if (text.ends_with("\r")) text.remove_suffix(1);
  Wiped decoded;
  if (text.size() != 2 * SecretKey::kSize || !internal::HexDecode(text, &decoded.bytes)) {
    return InvalidArgumentError(
        fmt::format("master key file {}: expected 32 raw bytes or 64 hex digits, found {} bytes of "
                    "something else",
                    path, content.bytes.size()));
  }
  master.key = SecretKey::FromBytes(decoded.bytes);
  return master;
}

}  // namespace callvault::crypto
