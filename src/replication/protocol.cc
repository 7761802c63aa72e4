#include "replication/protocol.h"

namespace callvault::replication {

std::string_view PresenceName(Presence p) {
  switch (p) {
    case Presence::kAbsent:
      return "absent";
    case Presence::kPartial:
      return "partial";
    case Presence::kHave:
      return "have";
    case Presence::kDeleted:
      return "deleted";
  }
  return "absent";
}

Result<Presence> ParsePresence(std::string_view name) {
  for (Presence p : {Presence::kAbsent, Presence::kPartial, Presence::kHave, Presence::kDeleted})
    if (PresenceName(p) == name) return p;
  return InvalidArgumentError("unknown presence \"" + std::string(name) + "\"");
}

std::string PeerQueueName(std::string_view peer_id) { return "peer." + std::string(peer_id); }

Status ValidateNodeId(std::string_view id) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !id.empty() && id.size() <= 63 && alnum(id[0]);
  for (char c : id) ok = ok && (alnum(c) || c == '.' || c == '_' || c == '-');
  if (ok) return Status::Ok();
  return InvalidArgumentError("node id \"" + std::string(id) +
                              "\": 1-63 characters of a-z 0-9 . _ -, starting with a letter or "
                              "digit");
}

}  // namespace callvault::replication
