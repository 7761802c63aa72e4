#include "catalog/copies.h"

#include <algorithm>
#include <cstdlib>

namespace callvault::catalog {
namespace {

bool Passive(const RecordingCopy& c) { return c.capture_mode == "passive"; }
bool Ended(const RecordingCopy& c) { return c.state != CallState::kPartial; }
int64_t Reach(const RecordingCopy& c) { return c.ended_ms.value_or(c.started_ms); }

// Whether `a` is the better copy of the two (the order of copies.h).
bool Better(const RecordingCopy& a, const RecordingCopy& b) {
  if (Ended(a) != Ended(b)) return Ended(a);
  if (Ended(a) && Passive(a) != Passive(b)) return !Passive(a);
  if (Reach(a) != Reach(b)) return Reach(a) > Reach(b);
  if (a.duration_ms != b.duration_ms) return a.duration_ms > b.duration_ms;
  if (Passive(a) != Passive(b)) return !Passive(a);
  return a.call_id < b.call_id;
}

std::string Reason(const RecordingCopy& keep, const std::vector<const RecordingCopy*>& others) {
  if (!Ended(keep)) return "every copy was cut short by a crash: this one reaches furthest";
  if (std::none_of(others.begin(), others.end(), [](const RecordingCopy* o) { return Ended(*o); }))
    return "the other copies were cut short by a crash";
  if (!Passive(keep)) return "the primary's copy ended normally";
  return "equal passive copies: the first kept";
}

}  // namespace

std::optional<CopyDecision> ChooseCopy(const std::vector<RecordingCopy>& copies) {
  const auto anchor = std::find_if(copies.begin(), copies.end(), Passive);
  if (anchor == copies.end()) return std::nullopt;
  std::vector<const RecordingCopy*> group;
  for (const RecordingCopy& c : copies) {
    if (c.state == CallState::kActive) continue;
    if (std::llabs(c.started_ms - anchor->started_ms) > kSameCallWindowMs) continue;
    if (!Passive(c) && !anchor->primary_node_id.empty() && c.node_id != anchor->primary_node_id)
      continue;
    group.push_back(&c);
  }
  if (group.size() < 2) return std::nullopt;
  const RecordingCopy* best = group.front();
  for (const RecordingCopy* c : group)
    if (Better(*c, *best)) best = c;
  CopyDecision d;
  d.keep = best->call_id;
  std::vector<const RecordingCopy*> others;
  for (const RecordingCopy* c : group) {
    if (c == best) continue;
    others.push_back(c);
    d.drop.push_back(c->call_id);
  }
  std::sort(d.drop.begin(), d.drop.end());
  d.reason = Reason(*best, others);
  return d;
}

}  // namespace callvault::catalog
