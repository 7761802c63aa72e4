// Private to siprec/metadata*: turning a parsed pugixml tree into RecordingMetadata.
//
// Called by: metadata_parse.cc only. Thread-safety: pure functions over their arguments.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <vector>

#include "siprec/metadata.h"

namespace callvault::siprec::internal {

// Appends problem lines, at most kMaxMetadataProblems (then one "… more" line, kept current).
class Problems {
 public:
  explicit Problems(std::vector<std::string>* out) : out_(out) {}
  void Add(std::string line);

 private:
  std::vector<std::string>* out_;
  size_t omitted_ = 0;
};

// Fills `md` (all but raw/well_formed) from `doc`, which may be a partial tree.
// REQUIRES: `doc` is within kMaxMetadataElements/kMaxMetadataDepth (checked by the caller).
void BuildModel(const pugi::xml_document& doc, RecordingMetadata* md, Problems* problems);

}  // namespace callvault::siprec::internal
