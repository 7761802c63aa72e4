// The catalog benchmarks' corpus: call i of N realistic calls, deterministic, spread over
// kSpanDays from kT0 (5 tenants, 3 nodes, 2 participants with names and numbers, one RFC 7865
// metadata snapshot; every 100th call also an "escalation ticket <i>" note — the rare free-text
// word). The same calls fill the catalog of bench/catalog_bench.cc (ListCalls timed in process)
// and of bench/portal_fill.cc (the portal timed in a browser, bench/portal_bench.sh).
//
// Bench-only. Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "recording/manifest_reader.h"

namespace callvault::bench {

inline constexpr int64_t kT0 = 1795593600000;  // 2026-11-25T08:00:00Z
inline constexpr int64_t kDay = 86400000;
inline constexpr int64_t kSpanDays = 30;

// Name parts of the participants ("<first> <last><0..49>"); queries pick from them.
inline constexpr const char* kFirst[] = {"Alice", "Bob",  "Carol", "Dave",  "Erin", "Frank", "Gina",
                                         "Henry", "Ivy",  "Jack",  "Karen", "Liam", "Mona",  "Nils",
                                         "Olga",  "Paul", "Quinn", "Rosa",  "Sven", "Tara"};
inline constexpr const char* kLast[] = {"Smith", "Meyer",  "Garcia",   "Novak",  "Rossi",
                                        "Dubois", "Jansen", "Silva",   "Kowal",  "Larsen",
                                        "Ozturk", "Nakamura", "Okafor", "Brown", "Weber",
                                        "Moreau", "Costa",  "Horvat",  "Berg",   "Ivanova"};

// Start time of call i of n: kT0 + i × (kSpanDays / n).
inline int64_t CorpusStartedMs(int64_t i, int64_t n) { return kT0 + i * (kSpanDays * kDay / n); }

// Call i of the corpus of n calls. Its id is testing::TestCallId(CorpusStartedMs(i, n), i).
// The caller's number is "+1555" followed by 1000000…9999999, the callee's 2000…9999.
recording::Manifest CorpusManifest(int64_t i, int64_t n);

}  // namespace callvault::bench
