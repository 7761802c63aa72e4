// Recording file names from the configured name template (FinalizeOptions::name_template).
//
// Placeholders: {date} = YYYY/MM/DD, {time} = HHMMSS (UTC, of the call's start), {call_id},
// {caller}, {callee}, {tenant}, {node}. Values are sanitized for file names: '/', '\', control
// characters and characters outside [A-Za-z0-9+._@-] become '_', leading dots are dropped (no
// "..", no hidden files), each value is cut to 64 bytes; an empty value becomes "unknown".
// The template's own '/' separate directories; a template component that is empty, "." or ".."
// is an error. Unknown placeholders are an error (caught by ValidateNameTemplate at config time).
//
// Called by: recording/finalizer.cc; app/ config validation (ValidateNameTemplate).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::recording {

struct NameFields {
  int64_t start_ns = 0;  // wall clock, ns since the epoch
  std::string call_id, caller, callee, tenant, node;
};

[[nodiscard]] Status ValidateNameTemplate(std::string_view name_template);

// The relative path (without extension) for `fields`, e.g. "2026/11/25/080000_<call id>".
Result<std::string> ExpandNameTemplate(std::string_view name_template, const NameFields& fields);

// A value made safe as (part of) one path component; see above.
std::string SanitizeNameValue(std::string_view value);

// The user part of a SIP/TEL URI or name-addr ("\"Alice\" <sip:+1555@h>;tag=x" → "+1555").
std::string UserOfUri(std::string_view uri);

}  // namespace callvault::recording
