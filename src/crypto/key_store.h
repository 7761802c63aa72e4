// KeyStore: the node's tenant keys, one active key per tenant, each stored wrapped by the master
// key in `<dir>/<key id>.json` (normally dir = <data>/keys). Destroy() crypto-shreds a tenant:
// its key files are overwritten and removed, and a tombstone `<key id>.destroyed` records when,
// so a later lookup of the key says "destroyed" (HTTP 410) rather than "missing".
// File formats: docs/formats/encrypted-audio.md §Tenant key files.
//
// Keys are unwrapped once, at Open(), and kept in memory (SecretKey: wiped when dropped).
// Nothing here logs key material: log lines carry the tenant and the key id only.
//
// Who calls it: app/ (opens one per node, `callvault tenant-key ...`), recording/ (the active
// key of a call's tenant when finalizing), http/ and storage/ (Find by a file's key id).
// Thread-safety: thread-safe (one mutex; ActiveKey's first use per tenant and Destroy write
// files under it — rare).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/mutex.h"
#include "base/status.h"
#include "crypto/master_key.h"
#include "crypto/tenant_key.h"

namespace callvault::crypto {

inline constexpr std::string_view kTenantKeyFormat = "callvault-tenant-key";
inline constexpr std::string_view kTenantKeyTombstoneFormat = "callvault-tenant-key-tombstone";
inline constexpr int kTenantKeyFormatVersion = 1;

struct TenantKeyInfo {
  std::string tenant;
  std::string key_id;
  int64_t created_ms = 0;    // 0 when only a tombstone is left and it did not say
  bool destroyed = false;    //
  int64_t destroyed_ms = 0;  // when destroyed
  bool active = false;       // the key ActiveKey(tenant) returns
};

class KeyStore {
 public:
  // Creates `dir` if missing and loads every key file and tombstone in it. Errors: Fs errors;
  // DataLoss naming the file when one cannot be parsed or unwrapped ("wrong master key or
  // corrupted file") — the store refuses to start rather than make new keys for tenants whose
  // old key it cannot read. A key file with a tombstone beside it (a Destroy interrupted by a
  // crash) is removed now. Stale "*.tmp" files are ignored.
  // REQUIRES: `fs` and `clock` outlive the store.
  static Result<std::unique_ptr<KeyStore>> Open(Fs* fs, std::string dir, const MasterKey& master,
                                                const Clock* clock = RealClock());

  // The tenant's active key (its newest live one). When it has none: with create_if_missing a
  // new key is made (32 bytes from RAND_bytes, id a random UUID), written durably
  // (WriteFileDurably) and logged (`crypto.tenant_key_created tenant=... key=...`); without it,
  // NotFound. InvalidArgument for a tenant name the format cannot hold (empty, > 255 bytes,
  // control characters).
  Result<TenantKey> ActiveKey(std::string_view tenant, bool create_if_missing) EXCLUDES(mu_);

  // The key with this id. NotFound when the store never had it; FailedPrecondition
  // "tenant key <id> of tenant <t> was destroyed at <time>" when it was crypto-shredded — also
  // by another process on the same directory since Open() (its tombstone is looked for, so a
  // running server honours `callvault tenant-key destroy` at once; ActiveKey() too).
  Result<TenantKey> Find(std::string_view key_id) const EXCLUDES(mu_);

  // Crypto-shreds every live key of `tenant`: for each, a tombstone is written durably, the
  // key file is overwritten with zeros and synced (best effort against recovery from the disk:
  // see the format doc), removed, and the directory synced; the key is wiped from memory.
  // Logged as `crypto.tenant_key_destroyed tenant=... key=...` (the caller writes the audit
  // record). NotFound when the tenant has no live key. A later ActiveKey(tenant, true) makes a
  // new key for new recordings; files under the destroyed key stay undecryptable.
  [[nodiscard]] Status Destroy(std::string_view tenant) EXCLUDES(mu_);

  // Every key known, live or destroyed, sorted by tenant then creation time.
  std::vector<TenantKeyInfo> List() const EXCLUDES(mu_);

  // Find() as a KeyLookupFn for DecryptingReader. REQUIRES: the store outlives the function.
  KeyLookupFn Lookup() const;

 private:
  struct Entry {
    TenantKey key;  // key.key is zeros once destroyed
    bool destroyed = false;
    int64_t destroyed_ms = 0;
  };

  KeyStore(Fs* fs, std::string dir, const MasterKey& master, const Clock* clock);
  Status Load() EXCLUDES(mu_);
  Status WriteKeyFile(const TenantKey& key) REQUIRES(mu_);
  Status ShredKey(Entry* entry) REQUIRES(mu_);
  // True (and the entry marked destroyed, its key wiped) when a tombstone for it appeared on
  // disk since Load(): Destroy() run by another process on the same directory (the CLI while
  // the server runs). One stat per ActiveKey()/Find() of a live key.
  bool DestroyedElsewhere(Entry* entry) const REQUIRES(mu_);

  Fs* const fs_;
  const std::string dir_;
  const SecretKey master_;
  const Clock* const clock_;

  mutable Mutex mu_;
  // Mutable: Find() marks a key destroyed when another process destroyed it.
  mutable std::map<std::string, Entry, std::less<>> by_id_ GUARDED_BY(mu_);
};

}  // namespace callvault::crypto
