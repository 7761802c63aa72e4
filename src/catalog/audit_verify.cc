#include "catalog/audit_verify.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <optional>

#include "catalog/internal/audit_chain.h"

namespace callvault::catalog {
namespace {

using internal::ChainHash;
using internal::kGenesisHash;

std::string Name(const AuditEntry& e) {
  return "id=" + std::to_string(e.id) + " uid=" + e.uid + " origin=" + e.origin +
         " seq=" + std::to_string(e.seq);
}

// The walk of one chain, fed its rows in seq order.
class ChainWalk {
 public:
  ChainWalk(std::string origin, const std::vector<AuditAnchor>* anchors) : anchors_(anchors) {
    report_.origin = std::move(origin);
  }

  const std::string& origin() const { return report_.origin; }

  void Add(const AuditChainRow& row) {
    const AuditEntry& e = row.entry;
    ++report_.entries;
    for (const AuditAnchor& a : *anchors_) {
      if (a.origin == e.origin && a.seq == e.seq) {
        anchors_seen_.push_back(a.seq);
        if (a.hash != e.hash) {
          Fail("changed: " + Name(e) + " has hash " + e.hash + ", the anchor recorded " + a.hash);
        }
      }
    }
    if (e.seq < expected_) {
      Fail("reordered or duplicated: " + Name(e) + " repeats seq " + std::to_string(e.seq) +
           " (after " + last_name_ + ")");
    } else if (e.seq > expected_) {
      const std::string missing = e.seq == expected_ + 1 ? "seq " + std::to_string(expected_)
                                                         : "seq " + std::to_string(expected_) +
                                                               ".." + std::to_string(e.seq - 1);
      Fail("removed: " + missing + " of origin " + e.origin + " is missing (the chain goes from " +
           (last_name_.empty() ? std::string("its start") : last_name_) + " to " + Name(e) + ")");
    } else if (ChainHash(e.prev_hash, e, row.detail_text) != e.hash) {
      Fail("changed: " + Name(e) + ": its content does not match its hash");
    } else if (e.prev_hash != prev_hash_) {
      Fail(
          last_name_.empty()
              ? "changed: " + Name(e) + " does not start from the genesis hash"
              : "changed: " + last_name_ + ": its hash is not the one " + Name(e) +
                    " was chained to (the entry was altered and its hash recomputed, or replaced)");
    } else if (e.id < last_id_) {
      Fail("reordered: " + Name(e) + " comes before " + last_name_ + " in the log's row order");
    }
    expected_ = std::max(expected_, e.seq + 1);
    prev_hash_ = e.hash;
    last_id_ = e.id;
    last_name_ = Name(e);
    report_.last_seq = e.seq;
    report_.last_hash = e.hash;
  }

  // Checks the end of the chain against its head row (nullptr: none).
  AuditChainReport Finish(const AuditHead* head) {
    if (head != nullptr) report_.head = *head;
    if (head == nullptr) {
      Fail("changed: origin " + report_.origin + " has no head row (audit_heads was edited)");
    } else if (head->seq > report_.last_seq) {
      const std::string missing =
          head->seq == report_.last_seq + 1
              ? "seq " + std::to_string(head->seq)
              : "seq " + std::to_string(report_.last_seq + 1) + ".." + std::to_string(head->seq);
      Fail("removed: " + missing + " of origin " + report_.origin +
           " is missing (the newest entries: the head says seq " + std::to_string(head->seq) +
           (last_name_.empty() ? std::string(", the log has none")
                               : ", the log ends at " + last_name_) +
           ")");
    } else if (head->seq < report_.last_seq) {
      Fail("changed: the head row of origin " + report_.origin + " says seq " +
           std::to_string(head->seq) + ", the chain goes to " + last_name_);
    } else if (head->hash != report_.last_hash) {
      Fail("changed: " + last_name_ + ": its hash is not the head's " + head->hash);
    }
    for (const AuditAnchor& a : *anchors_) {
      if (a.origin != report_.origin) continue;
      bool seen = false;
      for (int64_t s : anchors_seen_) seen = seen || s == a.seq;
      if (!seen) {
        Fail("removed: the anchored entry seq " + std::to_string(a.seq) + " of origin " + a.origin +
             " is not in the log");
      }
    }
    return report_;
  }

 private:
  void Fail(std::string problem) {
    if (report_.problem.empty()) report_.problem = std::move(problem);
  }

  const std::vector<AuditAnchor>* anchors_;
  AuditChainReport report_;
  int64_t expected_ = 1;
  std::string prev_hash_{kGenesisHash};
  int64_t last_id_ = 0;
  std::string last_name_;
  std::vector<int64_t> anchors_seen_;
};

}  // namespace

bool AuditVerifyReport::ok() const {
  if (!problems.empty()) return false;
  for (const AuditChainReport& c : chains) {
    if (!c.problem.empty()) return false;
  }
  return true;
}

Result<AuditAnchor> ParseAuditAnchor(std::string_view text) {
  const size_t last = text.rfind(':');
  const size_t mid = last == std::string_view::npos || last == 0 ? std::string_view::npos
                                                                 : text.rfind(':', last - 1);
  if (mid == std::string_view::npos || mid == 0) {
    return InvalidArgumentError("anchor: ORIGIN:SEQ:HASH expected, not \"" + std::string(text) +
                                "\"");
  }
  AuditAnchor a;
  a.origin = std::string(text.substr(0, mid));
  const std::string seq(text.substr(mid + 1, last - mid - 1));
  a.hash = std::string(text.substr(last + 1));
  char* end = nullptr;
  const long long n = std::strtoll(seq.c_str(), &end, 10);
  if (seq.empty() || *end != '\0' || n < 1) {
    return InvalidArgumentError("anchor: the seq \"" + seq + "\" is not a positive integer");
  }
  a.seq = n;
  if (a.hash.size() != 64) {
    return InvalidArgumentError("anchor: the hash must be 64 hex digits");
  }
  return a;
}

Result<AuditVerifyReport> VerifyAuditLog(Catalog& catalog, const AuditVerifyOptions& options) {
  CV_ASSIGN_OR_RETURN(std::vector<AuditHead> head_list, catalog.AuditHeads());
  std::map<std::string, AuditHead> heads;
  int64_t expected = 0;
  for (const AuditHead& h : head_list) {
    heads[h.origin] = h;
    expected += h.seq;
  }
  AuditVerifyReport report;
  std::map<std::string, bool> walked;
  std::optional<ChainWalk> walk;
  auto finish = [&] {
    if (!walk) return;
    AuditChainReport chain;
    auto it = heads.find(walk->origin());
    chain = walk->Finish(it == heads.end() ? nullptr : &it->second);
    walked[chain.origin] = true;
    report.chains.push_back(std::move(chain));
    walk.reset();
  };
  int64_t unchained = 0;
  std::string after_origin;
  int64_t after_seq = std::numeric_limits<int64_t>::min();
  int64_t after_id = std::numeric_limits<int64_t>::min();
  for (;;) {
    CV_ASSIGN_OR_RETURN(std::vector<AuditChainRow> rows,
                        catalog.ScanAuditChains(after_origin, after_seq, after_id, options.page));
    for (const AuditChainRow& row : rows) {
      const AuditEntry& e = row.entry;
      ++report.entries;
      if (e.origin.empty() || e.seq < 1 || e.hash.empty()) {
        if (unchained++ == 0) {
          report.problems.push_back("changed: " + Name(e) +
                                    " is in no chain (added or altered outside callvault)");
        }
        continue;
      }
      if (!walk || walk->origin() != e.origin) {
        finish();
        walk.emplace(e.origin, &options.anchors);
      }
      walk->Add(row);
    }
    if (!rows.empty()) {
      const AuditEntry& last = rows.back().entry;
      after_origin = last.origin;
      after_seq = last.seq;
      after_id = last.id;
    }
    if (options.progress) options.progress(report.entries, expected);
    if (static_cast<int>(rows.size()) < options.page) break;
  }
  finish();
  if (unchained > 1) {
    report.problems.back() += " (and " + std::to_string(unchained - 1) + " more such rows)";
  }
  // Chains whose every entry is gone.
  for (const auto& [origin, head] : heads) {
    if (walked.count(origin) != 0) continue;
    AuditChainReport chain;
    chain.origin = origin;
    chain.head = head;
    if (head.seq > 0) {
      chain.problem = "removed: all " + std::to_string(head.seq) + " entries of origin " + origin +
                      " are missing (its head says seq " + std::to_string(head.seq) + ")";
    }
    report.chains.push_back(std::move(chain));
  }
  for (const AuditAnchor& a : options.anchors) {
    if (heads.count(a.origin) == 0 && walked.count(a.origin) == 0) {
      report.problems.push_back("removed: the anchor names origin " + a.origin +
                                ", which has no entries here");
    }
  }
  return report;
}

}  // namespace callvault::catalog
