// ParseMetadata: bytes → RecordingMetadata. See metadata.h for the accepted variants and the
// repair strategy; internal/metadata_tree.cc turns the pugixml tree into the model.
#include <algorithm>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "siprec/internal/metadata_tree.h"
#include "siprec/metadata.h"

namespace callvault::siprec {
namespace {

// Offset of the first byte that breaks UTF-8 (RFC 3629), or npos.
size_t InvalidUtf8Offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

struct LineCol {
  size_t line = 1, column = 1;
};

LineCol LineColumnAt(std::string_view s, size_t offset) {
  LineCol lc;
  offset = std::min(offset, s.size());
  for (size_t i = 0; i < offset; ++i) {
    if (s[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else {
      ++lc.column;
    }
  }
  return lc;
}

std::string Where(std::string_view original, size_t offset) {
  const LineCol lc = LineColumnAt(original, offset);
  return "line " + std::to_string(lc.line) + " column " + std::to_string(lc.column) + " (offset " +
         std::to_string(offset) + ")";
}

// Errors a stray '<' in text produces; only these are worth a repair attempt.
bool RepairableStatus(pugi::xml_parse_status status) {
  return status == pugi::status_bad_start_element || status == pugi::status_unrecognized_tag ||
         status == pugi::status_bad_attribute || status == pugi::status_bad_pi;
}

constexpr unsigned kParseFlags = pugi::parse_default;  // no parse_doctype: DTDs are skipped

// The working buffer and what was changed in it, so offsets can be reported in the input's terms.
struct Attempt {
  std::string buffer;
  std::vector<size_t> repaired;  // original offsets of escaped '<', ascending
  pugi::xml_parse_result result;
};

// Offset in `buffer` → offset in the original input (each repair added 3 bytes: "<" → "&lt;").
size_t OriginalOffset(const Attempt& a, size_t offset) {
  size_t shift = 0;
  for (size_t pos : a.repaired) {
    if (pos + shift < offset) shift += 3;
  }
  return offset - std::min(offset, shift);
}

// Bounds the work before the model is read: counts elements and depth without recursion.
// False (with a problem) when a limit is exceeded.
bool WithinLimits(const pugi::xml_document& doc, internal::Problems* problems) {
  size_t elements = 0, depth = 1, top_level = 0;
  pugi::xml_node n = doc.first_child();
  while (n) {
    if (n.type() == pugi::node_element) {
      ++elements;
      if (depth == 1) ++top_level;
      if (elements > kMaxMetadataElements) {
        problems->Add("more than " + std::to_string(kMaxMetadataElements) +
                      " XML elements: not interpreted");
        return false;
      }
      if (depth > kMaxMetadataDepth) {
        problems->Add("XML nested deeper than " + std::to_string(kMaxMetadataDepth) +
                      " levels: not interpreted");
        return false;
      }
    }
    if (n.first_child()) {
      n = n.first_child();
      ++depth;
      continue;
    }
    while (n && !n.next_sibling()) {
      n = n.parent();
      --depth;
    }
    if (n) n = n.next_sibling();
  }
  if (top_level > 1) problems->Add("more than one top-level element: only the first is read");
  return true;
}

}  // namespace

RecordingMetadata ParseMetadata(std::string_view xml) {
  RecordingMetadata md;
  internal::Problems problems(&md.problems);

  if (xml.size() > kMaxMetadataBytes) {
    md.raw.assign(xml.substr(0, kRawKeptWhenTooLarge));
    md.raw += "\n[callvault: truncated, " + std::to_string(xml.size()) + " bytes in total]";
    problems.Add("metadata larger than " + std::to_string(kMaxMetadataBytes) + " bytes (" +
                 std::to_string(xml.size()) + "): not parsed");
    return md;
  }
  md.raw.assign(xml);
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    problems.Add("empty metadata: no XML elements");
    return md;
  }

  bool encoding_ok = true;
  if (const size_t nul = xml.find('\0'); nul != std::string_view::npos) {
    problems.Add("NUL byte at " + Where(xml, nul) + ": not XML, parsed up to it");
    encoding_ok = false;
  }
  if (const size_t bad = InvalidUtf8Offset(xml); bad != std::string_view::npos) {
    problems.Add("invalid UTF-8 at " + Where(xml, bad));
    encoding_ok = false;
  }
  if (xml.find("<!DOCTYPE") != std::string_view::npos ||
      xml.find("<!ENTITY") != std::string_view::npos) {
    problems.Add("DOCTYPE/ENTITY declaration ignored: entities are not expanded");
  }

  // Parse, repairing stray '<' in text (bounded); keep the attempt that got furthest.
  pugi::xml_document doc;
  Attempt attempt{std::string(xml), {}, {}};
  attempt.result = doc.load_buffer(attempt.buffer.data(), attempt.buffer.size(), kParseFlags,
                                   pugi::encoding_utf8);
  const pugi::xml_parse_result first_error = attempt.result;
  if (!first_error) {
    problems.Add("not well-formed XML at " + Where(xml, static_cast<size_t>(first_error.offset)) +
                 ": " + first_error.description());
  }
  for (size_t i = 0;
       i < kMaxMetadataRepairs && !attempt.result && RepairableStatus(attempt.result.status); ++i) {
    const auto off = static_cast<size_t>(attempt.result.offset);
    const size_t lt = attempt.buffer.rfind('<', std::min(off, attempt.buffer.size() - 1));
    if (lt == std::string::npos || lt == 0) break;
    Attempt next = attempt;
    const size_t original_lt = OriginalOffset(attempt, lt);
    next.buffer.replace(lt, 1, "&lt;");
    next.repaired.push_back(original_lt);
    std::sort(next.repaired.begin(), next.repaired.end());
    pugi::xml_document next_doc;
    next.result = next_doc.load_buffer(next.buffer.data(), next.buffer.size(), kParseFlags,
                                       pugi::encoding_utf8);
    const bool progressed =
        next.result || OriginalOffset(next, static_cast<size_t>(next.result.offset)) >
                           OriginalOffset(attempt, off);
    if (!progressed) break;
    problems.Add("repaired: escaped a stray '<' at " + Where(xml, original_lt));
    attempt = std::move(next);
    doc = std::move(next_doc);
  }
  if (!attempt.result) {
    if (attempt.result.offset != first_error.offset || !attempt.repaired.empty()) {
      problems.Add("not well-formed XML at " +
                   Where(xml, OriginalOffset(attempt, static_cast<size_t>(attempt.result.offset))) +
                   ": " + attempt.result.description());
    }
    if (attempt.result.status != pugi::status_no_document_element)
      problems.Add("salvaged the elements before the error");
  }
  md.well_formed = encoding_ok && first_error;

  if (WithinLimits(doc, &problems)) internal::BuildModel(doc, &md, &problems);
  return md;
}

const MetadataParticipant* RecordingMetadata::FindParticipant(std::string_view id) const {
  for (const auto& p : participants) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const MetadataStream* RecordingMetadata::FindStream(std::string_view id) const {
  for (const auto& s : streams) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool RecordingMetadata::HasProblem(std::string_view text) const {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

}  // namespace callvault::siprec
