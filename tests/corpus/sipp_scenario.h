// What sipp would put on the wire for the <send> messages of a scenario, without running sipp:
// the sample corpus test (sample_corpus_test.cc) feeds these bytes to our parser.
//
// Mimics sipp 3.x (src/scenario.cpp clean_cdata, src/message.cpp SendingMessage,
// src/call.cpp createSendingMessage): leading/trailing whitespace of the CDATA and of every
// line is stripped, "\n\n" is appended when there is no empty line, line ends become CRLF,
// [keywords] are substituted with plausible fixed values, [len] is the body length written
// right-aligned in 5 columns ("Content-Length:  1363"), [$var] becomes a placeholder token,
// [fieldN file=...] reads the injection CSV in place, and [last_Header:] takes the header from
// a synthetic request (as if sipp had just received it).
//
// Test-only code. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::corpus {

// The CDATA (or text) of every <send> element, in order. Comments and <sendCmd> are skipped.
std::vector<std::string> ExtractSends(std::string_view scenario_xml);

// sipp's clean_cdata(): trims the message and every line, adds "\n\n" when missing.
std::string CleanCdata(std::string_view cdata);

struct SippContext {
  int message_index = 0;   // index of the <send> in the scenario ([branch])
  std::string inject_dir;  // where [field0 file=x.csv] files are read; "" = placeholders only
};

// Expands a cleaned message into the bytes sipp sends. Errors name the unsupported keyword.
Result<std::string> ExpandSippMessage(std::string_view cleaned, const SippContext& context);

}  // namespace callvault::corpus
