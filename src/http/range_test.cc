#include "http/range.h"

#include <gtest/gtest.h>

#include <string>

namespace callvault::http {
namespace {

using Kind = RangeDecision::Kind;

void ExpectPartial(std::string_view header, uint64_t size, uint64_t start, uint64_t length) {
  RangeDecision d = ResolveRange(header, size);
  EXPECT_EQ(d.kind, Kind::kPartial) << header;
  EXPECT_EQ(d.start, start) << header;
  EXPECT_EQ(d.length, length) << header;
}

void ExpectFull(std::string_view header, uint64_t size) {
  RangeDecision d = ResolveRange(header, size);
  EXPECT_EQ(d.kind, Kind::kFull) << header;
  EXPECT_EQ(d.start, 0u) << header;
  EXPECT_EQ(d.length, size) << header;
}

void ExpectUnsatisfiable(std::string_view header, uint64_t size) {
  EXPECT_EQ(ResolveRange(header, size).kind, Kind::kNotSatisfiable) << header;
}

TEST(RangeTest, NoHeaderIsFull) { ExpectFull("", 1000); }

TEST(RangeTest, SingleClosedRange) {
  ExpectPartial("bytes=0-99", 1000, 0, 100);
  ExpectPartial("bytes=500-500", 1000, 500, 1);
  ExpectPartial("bytes=990-2000", 1000, 990, 10);  // last clamped to size-1
  ExpectPartial("Bytes = 1-2", 1000, 1, 2);        // unit case-insensitive, OWS
}

TEST(RangeTest, OpenRange) {
  ExpectPartial("bytes=100-", 1000, 100, 900);
  ExpectPartial("bytes=999-", 1000, 999, 1);
}

TEST(RangeTest, SuffixRange) {
  ExpectPartial("bytes=-100", 1000, 900, 100);
  ExpectPartial("bytes=-5000", 1000, 0, 1000);  // larger than the file: all of it
}

TEST(RangeTest, StartPastEndIsNotSatisfiable) {
  ExpectUnsatisfiable("bytes=1000-", 1000);
  ExpectUnsatisfiable("bytes=1000-2000", 1000);
  ExpectUnsatisfiable("bytes=-0", 1000);
  ExpectUnsatisfiable("bytes=0-", 0);
  ExpectUnsatisfiable("bytes=-10", 0);
  EXPECT_EQ(ContentRange(ResolveRange("bytes=5000-", 1000), 1000), "bytes */1000");
}

TEST(RangeTest, MultipleRangesServeTheFirstSatisfiableOnly) {
  ExpectPartial("bytes=0-9,20-29", 1000, 0, 10);
  ExpectPartial("bytes=5000-6000, 10-19", 1000, 10, 10);
  ExpectPartial("bytes=,,0-0,", 1000, 0, 1);
  std::string many = "bytes=0-999";
  for (int i = 0; i < 99; ++i) many += ",0-999";
  ExpectPartial(many, 1000, 0, 1000);  // 100 overlapping ranges: the file once
  ExpectUnsatisfiable("bytes=2000-,3000-3001", 1000);
}

TEST(RangeTest, MalformedHeadersAreIgnored) {
  for (std::string_view h :
       {"bytes", "bytes=", "bytes=,", "bytes=abc", "bytes=5-1", "bytes=1-2-3", "bytes=--1",
        "bytes=-", "bytes=+1-2", "bytes=0x10-20", "items=0-1", "=0-1", "bytes=1 2-3",
        "bytes=99999999999999999999-", "bytes=-99999999999999999999", "bytes=0-1,5-1"}) {
    ExpectFull(h, 1000);
  }
  std::string too_many = "bytes=0-0";
  for (int i = 0; i < kMaxRangeSpecs; ++i) too_many += ",0-0";
  ExpectFull(too_many, 1000);
}

TEST(RangeTest, ContentRangeHeader) {
  EXPECT_EQ(ContentRange(ResolveRange("bytes=0-99", 1000), 1000), "bytes 0-99/1000");
  EXPECT_EQ(ContentRange(ResolveRange("bytes=-1", 1000), 1000), "bytes 999-999/1000");
}

}  // namespace
}  // namespace callvault::http
