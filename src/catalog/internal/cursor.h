// The opaque page cursor of ListCalls: base64url (no padding) of
// "<checksum>|1|<sort s|d>|<direction a|d>|<sort key>|<call id>", where the checksum (FNV-1a
// 32-bit, hex, over everything after it) makes a changed cursor fail to decode instead of
// silently jumping elsewhere.
//
// Called by: SqlCatalog::ListCalls, tests. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::catalog::internal {

struct CursorKey {
  int64_t key = 0;  // started_ms or duration_ms of the last row of the previous page
  std::string call_id;
};

std::string EncodeCursor(SortKey sort, bool descending, const CursorKey& key);

// InvalidArgument when `cursor` is malformed, tampered with, or made for another sort order.
Result<CursorKey> DecodeCursor(std::string_view cursor, SortKey sort, bool descending);

std::string Base64UrlEncode(std::string_view bytes);
// False when `text` is not unpadded base64url.
bool Base64UrlDecode(std::string_view text, std::string* out);

}  // namespace callvault::catalog::internal
