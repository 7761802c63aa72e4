// Text helpers of the catalog: SIP/tel URIs (the AOR's user part is a call's "number"), the
// tokens of the free-text index and LIKE patterns. (RFC 3339 times: base/time_format.h.)
//
// Called by: catalog/internal (manifest rows, queries) and catalog tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace callvault::catalog::internal {

// A SIP name-addr or addr-spec (`"Alice" <sip:alice@example.com>;tag=1`, `sip:bob@h;user=phone`)
// split into its display name (unquoted, may be "") and its URI without header parameters.
struct NameAddr {
  std::string display_name;
  std::string uri;
};
NameAddr ParseNameAddr(std::string_view s);

// `text` as the catalog stores it: invalid UTF-8 and NUL replaced by U+FFFD (PostgreSQL's TEXT
// holds neither; SQLite's would, and the two backends must agree). Invalid UTF-8 is replaced as
// nlohmann's JSON writer does (the change bodies), so text read back from a body equals it.
std::string CleanText(std::string_view text);

// The user part of a sip:/sips: URI ("sip:+1555@h;user=phone" → "+1555") or the number of a
// tel: URI ("tel:+1555;phone-context=x" → "+1555"); "" for anything else.
std::string AorUser(std::string_view aor);

// The free-text tokenizer (the same for indexed text and queries, on both backends): maximal
// runs of ASCII letters and digits and of non-ASCII bytes (UTF-8 letters), ASCII lowercased,
// each cut to 64 bytes. Everything else separates tokens.
std::vector<std::string> SearchTokens(std::string_view text);

// Builds a call's search text: the unique tokens of `parts`, space-separated, at most
// kMaxSearchTextBytes. XML markup in a part (metadata) contributes its text and attribute
// values, not its element or attribute names.
inline constexpr size_t kMaxSearchTextBytes = 256 * 1024;
std::string BuildSearchText(const std::vector<std::string_view>& parts);

// The text content and attribute values of an XML document (markup dropped).
std::string XmlText(std::string_view xml);

// A LIKE pattern for "contains `s`" with the escape character '\'.
std::string ContainsPattern(std::string_view s);

// The text indexed for the contains filters: the non-empty `values`, in order, one per line,
// without those inside another value (a number inside its AOR, duplicates). A value that contains a
// string is a substring of this text, so "the text contains it" is a necessary condition of "one of
// the values contains it" (the index narrows, the exact LIKE decides).
std::string ContainsText(const std::vector<std::string_view>& values);

// Whether the trigram indexes can narrow a contains filter for `needle`: valid UTF-8 of at
// least 3 characters (SQLite's trigram tokenizer matches nothing for shorter strings).
bool TrigramIndexable(std::string_view needle);

// An FTS5 phrase for `needle` ("…", inner quotes doubled).
std::string Fts5Phrase(std::string_view needle);

}  // namespace callvault::catalog::internal
