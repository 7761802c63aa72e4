#include "crypto/key_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/time_format.h"
#include "crypto/encrypted_file_format.h"
#include "crypto/internal/aead.h"

namespace callvault::crypto {
namespace {

using json = nlohmann::json;

constexpr std::string_view kKeySuffix = ".json";
constexpr std::string_view kTombstoneSuffix = ".destroyed";

// The master-key wrap's AAD: binds the wrapped key to its tenant and id, so a key file copied
// under another name or edited to another tenant fails to unwrap.
std::string WrapAad(std::string_view tenant, std::string_view key_id) {
  std::string aad(kTenantKeyFormat);
  aad.push_back('\0');
  aad.push_back(static_cast<char>(kTenantKeyFormatVersion));
  aad.push_back(static_cast<char>(tenant.size()));
  aad.append(tenant);
  aad.push_back(static_cast<char>(key_id.size()));
  aad.append(key_id);
  return aad;
}

Result<std::string> NewKeyId() {
  uint8_t b[16];
  CV_RETURN_IF_ERROR(internal::RandomBytes(b, sizeof(b)));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4 (RFC 9562 §5.4)
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
  const std::string hex = internal::HexEncode(std::string_view(reinterpret_cast<char*>(b), 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string StringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t TimeField(const json& j, const char* name) {
  return ParseRfc3339Ms(StringField(j, name)).value_or(0);
}

// A parsed and unwrapped key file.
Result<TenantKey> ParseKeyFile(std::string_view text, std::string_view expected_id,
                               const SecretKey& master) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLossError("not a JSON object");
  if (StringField(j, "format") != kTenantKeyFormat)
    return DataLossError("format is not " + std::string(kTenantKeyFormat));
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kTenantKeyFormatVersion) {
    return DataLossError("unsupported version");
  }
  TenantKey key;
  key.tenant = StringField(j, "tenant");
  key.key_id = StringField(j, "key_id");
  key.created_ms = TimeField(j, "created");
  if (!IsValidTenant(key.tenant)) return DataLossError("invalid tenant");
  if (key.key_id != expected_id) return DataLossError("key_id does not match the file name");
  auto wrap = j.find("wrap");
  if (wrap == j.end() || !wrap->is_object()) return DataLossError("no wrap object");
  std::string nonce, wrapped, tag;
  if (StringField(*wrap, "algorithm") != "AES-256-GCM" ||
      !internal::HexDecode(StringField(*wrap, "nonce"), &nonce) ||
      nonce.size() != internal::kGcmNonceSize ||
      !internal::HexDecode(StringField(*wrap, "key"), &wrapped) ||
      wrapped.size() != SecretKey::kSize || !internal::HexDecode(StringField(*wrap, "tag"), &tag) ||
      tag.size() != internal::kGcmTagSize) {
    return DataLossError("bad wrap object");
  }
  Status s = internal::GcmOpen(master, reinterpret_cast<const uint8_t*>(nonce.data()),
                               WrapAad(key.tenant, key.key_id), wrapped,
                               reinterpret_cast<const uint8_t*>(tag.data()),
                               reinterpret_cast<char*>(key.key.mutable_data()));
  if (!s.ok()) {
    key.key = SecretKey();
    return DataLossError(
        "unwrapping with the master key failed (wrong master key or corrupted "
        "file)");
  }
  return key;
}

}  // namespace

KeyStore::KeyStore(Fs* fs, std::string dir, const MasterKey& master, const Clock* clock)
    : fs_(fs), dir_(std::move(dir)), master_(master.key), clock_(clock) {}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(Fs* fs, std::string dir, const MasterKey& master,
                                                 const Clock* clock) {
  std::unique_ptr<KeyStore> store(new KeyStore(fs, std::move(dir), master, clock));
  CV_RETURN_IF_ERROR(store->Load());
  return store;
}

Status KeyStore::Load() {
  CV_RETURN_IF_ERROR(fs_->CreateDirs(dir_));
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  MutexLock lock(&mu_);
  // Tombstones first, so that a key file left by an interrupted Destroy is recognised.
  for (const std::string& name : names) {
    if (!name.ends_with(kTombstoneSuffix)) continue;
    const std::string id = name.substr(0, name.size() - kTombstoneSuffix.size());
    const std::string path = dir_ + "/" + name;
    if (!IsValidKeyId(id)) return DataLossError("tenant key tombstone " + path + ": bad name");
    CV_ASSIGN_OR_RETURN(std::string text, fs_->ReadFile(path));
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || StringField(j, "format") != kTenantKeyTombstoneFormat) {
      return DataLossError("tenant key tombstone " + path + ": not a tombstone");
    }
    Entry& e = by_id_[id];
    e.key.key_id = id;
    e.key.tenant = StringField(j, "tenant");
    e.key.created_ms = TimeField(j, "created");
    e.destroyed = true;
    e.destroyed_ms = TimeField(j, "destroyed");
  }
  for (const std::string& name : names) {
    if (!name.ends_with(kKeySuffix)) continue;
    const std::string id = name.substr(0, name.size() - kKeySuffix.size());
    const std::string path = dir_ + "/" + name;
    if (!IsValidKeyId(id)) return DataLossError("tenant key file " + path + ": bad name");
    auto it = by_id_.find(id);
    if (it != by_id_.end() && it->second.destroyed) {
      CV_LOG_WARN("crypto.tenant_key_shred_resumed", "key={} tenant=\"{}\"", id,
                  it->second.key.tenant);
      CV_RETURN_IF_ERROR(ShredKey(&it->second));
      continue;
    }
    CV_ASSIGN_OR_RETURN(std::string text, fs_->ReadFile(path));
    Result<TenantKey> key = ParseKeyFile(text, id, master_);
    if (!key.ok()) return key.status().Annotate("tenant key file " + path);
    by_id_[id] = Entry{.key = std::move(key).value()};
  }
  return Status::Ok();
}

Status KeyStore::WriteKeyFile(const TenantKey& key) {
  uint8_t nonce[internal::kGcmNonceSize];
  uint8_t tag[internal::kGcmTagSize];
  std::string wrapped(SecretKey::kSize, '\0');
  CV_RETURN_IF_ERROR(internal::RandomBytes(nonce, sizeof(nonce)));
  CV_RETURN_IF_ERROR(internal::GcmSeal(
      master_, nonce, WrapAad(key.tenant, key.key_id),
      std::string_view(reinterpret_cast<const char*>(key.key.data()), SecretKey::kSize),
      wrapped.data(), tag));
  json j = {
      {"format", kTenantKeyFormat},
      {"version", kTenantKeyFormatVersion},
      {"tenant", key.tenant},
      {"key_id", key.key_id},
      {"created", FormatRfc3339Ms(key.created_ms)},
      {"wrap",
       {{"algorithm", "AES-256-GCM"},
        {"nonce", internal::HexEncode(std::string_view(reinterpret_cast<char*>(nonce), 12))},
        {"key", internal::HexEncode(wrapped)},
        {"tag", internal::HexEncode(std::string_view(reinterpret_cast<char*>(tag), 16))}}},
  };
  return WriteFileDurably(*fs_, dir_ + "/" + key.key_id + std::string(kKeySuffix), j.dump() + "\n");
}

Result<TenantKey> KeyStore::ActiveKey(std::string_view tenant, bool create_if_missing) {
  if (!IsValidTenant(tenant)) {
    return InvalidArgumentError(
        "tenant key: invalid tenant name (1..255 bytes, no control characters)");
  }
  MutexLock lock(&mu_);
  const Entry* best = nullptr;
  for (auto& [id, e] : by_id_) {
    if (e.destroyed || e.key.tenant != tenant || DestroyedElsewhere(&e)) continue;
    if (best == nullptr || e.key.created_ms > best->key.created_ms) best = &e;
  }
  if (best != nullptr) return best->key;
  if (!create_if_missing) {
    return NotFoundError(fmt::format("tenant \"{}\" has no active key", tenant));
  }
  TenantKey key;
  key.tenant = std::string(tenant);
  CV_ASSIGN_OR_RETURN(key.key_id, NewKeyId());
  CV_ASSIGN_OR_RETURN(key.key, SecretKey::Random());
  key.created_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
          .count();
  CV_RETURN_IF_ERROR(WriteKeyFile(key).Annotate("creating a key for tenant " + key.tenant));
  CV_LOG_INFO("crypto.tenant_key_created", "tenant=\"{}\" key={}", key.tenant, key.key_id);
  by_id_[key.key_id] = Entry{.key = key};
  return key;
}

Result<TenantKey> KeyStore::Find(std::string_view key_id) const {
  MutexLock lock(&mu_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end()) return NotFoundError(fmt::format("tenant key {} not found", key_id));
  Entry& e = it->second;
  if (e.destroyed || DestroyedElsewhere(&e)) {
    return FailedPreconditionError(
        fmt::format("tenant key {} of tenant \"{}\" was destroyed at {}", key_id, e.key.tenant,
                    e.destroyed_ms != 0 ? FormatRfc3339Ms(e.destroyed_ms) : "an unknown time"));
  }
  return e.key;
}

bool KeyStore::DestroyedElsewhere(Entry* entry) const {
  const std::string tomb = dir_ + "/" + entry->key.key_id + std::string(kTombstoneSuffix);
  if (!fs_->Exists(tomb)) return false;
  // Another process (`callvault tenant-key destroy`) shredded it; that process, or the next
  // Open() if it crashed, removes the key file. Here: forget the key.
  int64_t destroyed_ms = 0;
  if (Result<std::string> text = fs_->ReadFile(tomb); text.ok()) {
    json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) destroyed_ms = TimeField(j, "destroyed");
  }
  entry->destroyed = true;
  entry->destroyed_ms = destroyed_ms;
  entry->key.key = SecretKey();  // wipes
  CV_LOG_WARN("crypto.tenant_key_destroyed_elsewhere", "tenant=\"{}\" key={}", entry->key.tenant,
              entry->key.key_id);
  return true;
}

Status KeyStore::ShredKey(Entry* entry) {
  const std::string path = dir_ + "/" + entry->key.key_id + std::string(kKeySuffix);
  if (fs_->Exists(path)) {
    CV_ASSIGN_OR_RETURN(uint64_t size, fs_->FileSize(path));
    // Best effort against recovery of the wrapped key from the disk: zeros of the same length,
    // synced, before the name goes.
    CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs_->NewWritableFile(path));
    CV_RETURN_IF_ERROR(file->Append(std::string(size, '\0')));
    CV_RETURN_IF_ERROR(file->Sync());
    CV_RETURN_IF_ERROR(file->Close());
    CV_RETURN_IF_ERROR(fs_->Remove(path));
    CV_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  }
  entry->key.key = SecretKey();  // wipes
  return Status::Ok();
}

Status KeyStore::Destroy(std::string_view tenant) {
  MutexLock lock(&mu_);
  int destroyed = 0;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
          .count();
  for (auto& [id, e] : by_id_) {
    if (e.destroyed || e.key.tenant != tenant) continue;
    json tomb = {{"format", kTenantKeyTombstoneFormat},
                 {"version", kTenantKeyFormatVersion},
                 {"tenant", e.key.tenant},
                 {"key_id", id},
                 {"created", FormatRfc3339Ms(e.key.created_ms)},
                 {"destroyed", FormatRfc3339Ms(now_ms)}};
    // The tombstone first: from here on the key counts as destroyed, even if a crash comes
    // before the key file is gone (Load() finishes the job).
    CV_RETURN_IF_ERROR(
        WriteFileDurably(*fs_, dir_ + "/" + id + std::string(kTombstoneSuffix), tomb.dump() + "\n")
            .Annotate("destroying tenant key " + id));
    e.destroyed = true;
    e.destroyed_ms = now_ms;
    CV_RETURN_IF_ERROR(ShredKey(&e).Annotate("destroying tenant key " + id));
    CV_LOG_WARN("crypto.tenant_key_destroyed", "tenant=\"{}\" key={}", e.key.tenant, id);
    ++destroyed;
  }
  if (destroyed == 0) {
    return NotFoundError(fmt::format("tenant \"{}\" has no active key to destroy", tenant));
  }
  return Status::Ok();
}

std::vector<TenantKeyInfo> KeyStore::List() const {
  MutexLock lock(&mu_);
  std::vector<TenantKeyInfo> out;
  std::map<std::string, const Entry*> active;  // tenant → newest live entry
  for (const auto& [id, e] : by_id_) {
    if (e.destroyed) continue;
    const Entry*& a = active[e.key.tenant];
    if (a == nullptr || e.key.created_ms > a->key.created_ms) a = &e;
  }
  for (const auto& [id, e] : by_id_) {
    auto it = active.find(e.key.tenant);
    out.push_back(TenantKeyInfo{.tenant = e.key.tenant,
                                .key_id = id,
                                .created_ms = e.key.created_ms,
                                .destroyed = e.destroyed,
                                .destroyed_ms = e.destroyed_ms,
                                .active = it != active.end() && it->second == &e});
  }
  std::sort(out.begin(), out.end(), [](const TenantKeyInfo& a, const TenantKeyInfo& b) {
    return std::tie(a.tenant, a.created_ms, a.key_id) < std::tie(b.tenant, b.created_ms, b.key_id);
  });
  return out;
}

KeyLookupFn KeyStore::Lookup() const {
  return [this](std::string_view key_id) { return Find(key_id); };
}

}  // namespace callvault::crypto
