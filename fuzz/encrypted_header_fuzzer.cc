// libFuzzer target for the encrypted audio header parser and the reader's Open() on arbitrary
// stored bytes (src/crypto/encrypted_file_format.h, decrypting_reader.h): encrypted recordings
// are read back from disk and from buckets, where anyone with write access could alter them.
// Contracts: never crashes; a refused header is DataLoss; an accepted header serializes back to
// the same bytes; the reader over arbitrary bytes refuses with DataLoss or NotFound (its key
// lookup knows one key: id "k" of tenant "t", 32 zero bytes — the key of the seed made by
// src/crypto/testdata/make_vector.py, so mutations of a valid file reach the chunk checks); a
// file that opens reads fully or fails with DataLoss.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "crypto/decrypting_reader.h"
#include "crypto/encrypted_file_format.h"

using namespace callvault;
using namespace callvault::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Result<EncryptedFileHeader> h = ParseEncryptedHeader(bytes);
  if (!h.ok()) {
    if (h.status().code() != StatusCode::kDataLoss) std::abort();
  } else {
    if (h->size() > size || SerializeEncryptedHeader(*h) != bytes.substr(0, h->size())) {
      std::abort();
    }
  }

  // The whole reader: a fixed all-zero key under the id "k" of tenant "t".
  TenantKey key;
  key.tenant = "t";
  key.key_id = "k";
  auto lookup = [&key](std::string_view id) -> Result<TenantKey> {
    if (id != key.key_id) return NotFoundError("no such key");
    return key;
  };
  auto source = [&bytes](uint64_t offset, size_t len, char* buf) -> Result<size_t> {
    if (offset >= bytes.size()) return size_t{0};
    const size_t n = std::min<uint64_t>(len, bytes.size() - offset);
    std::memcpy(buf, bytes.data() + offset, n);
    return n;
  };
  auto r = DecryptingReader::Open(source, bytes.size(), lookup);
  if (!r.ok()) {
    const StatusCode c = r.status().code();
    if (c != StatusCode::kDataLoss && c != StatusCode::kNotFound) std::abort();
    return 0;
  }
  const uint64_t n = (*r)->plaintext_size();
  if (n > size) std::abort();
  std::string plain(n, '\0');
  Result<size_t> got = (*r)->Read(0, n, plain.data());
  if (got.ok() ? *got != n : got.status().code() != StatusCode::kDataLoss) std::abort();
  return 0;
}
