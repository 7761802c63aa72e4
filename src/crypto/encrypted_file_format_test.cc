#include "crypto/encrypted_file_format.h"

#include <gtest/gtest.h>

namespace callvault::crypto {
namespace {

EncryptedFileHeader SampleHeader() {
  EncryptedFileHeader h;
  h.tenant = "acme";
  h.key_id = "0b6c1f4e-2d1a-4c3b-9a8f-7e6d5c4b3a29";
  for (size_t i = 0; i < h.wrap_nonce.size(); ++i) h.wrap_nonce[i] = static_cast<uint8_t>(i);
  h.wrapped_data_key.fill(0xab);
  h.wrap_tag.fill(0xcd);
  h.nonce_prefix = {1, 2, 3, 4};
  return h;
}

TEST(EncryptedFileFormatTest, HeaderRoundTripsAndHasTheDocumentedLayout) {
  const EncryptedFileHeader h = SampleHeader();
  const std::string bytes = SerializeEncryptedHeader(h);
  ASSERT_EQ(bytes.size(), h.size());
  EXPECT_EQ(bytes.size(), 21u + 4 + 1 + 36 + 12 + 32 + 16 + 4);
  EXPECT_EQ(bytes.substr(0, 8), std::string("CVENC\r\n\x1a", 8));
  EXPECT_EQ(bytes[9], 1);                                      // version 1 (big-endian u16)
  EXPECT_EQ(bytes[10], 1);                                     // AES-256-GCM chunked
  EXPECT_EQ(bytes.substr(12, 4), std::string("\0\1\0\0", 4));  // 65536
  EXPECT_EQ(static_cast<uint8_t>(bytes[19]), h.size());        // header size (u32 BE, < 256 here)
  EXPECT_TRUE(LooksEncrypted(bytes));
  EXPECT_FALSE(LooksEncrypted("RIFF\0\0\0\0WAVE"));

  Result<EncryptedFileHeader> parsed = ParseEncryptedHeader(bytes + "chunks follow");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->tenant, "acme");
  EXPECT_EQ(parsed->key_id, h.key_id);
  EXPECT_EQ(parsed->wrap_nonce, h.wrap_nonce);
  EXPECT_EQ(parsed->wrapped_data_key, h.wrapped_data_key);
  EXPECT_EQ(parsed->wrap_tag, h.wrap_tag);
  EXPECT_EQ(parsed->nonce_prefix, h.nonce_prefix);
  EXPECT_EQ(SerializeEncryptedHeader(*parsed), bytes);
}

TEST(EncryptedFileFormatTest, BadHeadersAreDataLossNamingTheField) {
  const std::string good = SerializeEncryptedHeader(SampleHeader());
  auto fails_with = [](std::string bytes, std::string_view what) {
    Result<EncryptedFileHeader> r = ParseEncryptedHeader(bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find(what), std::string_view::npos) << r.status().ToString();
  };
  fails_with("", "truncated");
  fails_with("RIFF....WAVEfmt ", "bad magic");
  std::string b = good;
  b[9] = 2;
  fails_with(b, "unknown version 2");
  b = good;
  b[10] = 9;
  fails_with(b, "unknown algorithm 9");
  b = good;
  b[11] = 1;
  fails_with(b, "unknown flags");
  b = good;
  b[14] = 1;
  fails_with(b, "unsupported chunk size");
  b = good;
  b[19] = static_cast<char>(b[19] + 1);
  fails_with(b, "header size");
  b = good;
  b[20] = 0;  // empty tenant
  fails_with(b, "invalid tenant");
  b = good;
  b[21] = '\n';
  fails_with(b, "invalid tenant");
  b = good;
  b[26] = '/';  // key id's first character
  fails_with(b, "invalid key id");
  for (size_t n = 0; n < good.size(); ++n) fails_with(good.substr(0, n), "");
}

TEST(EncryptedFileFormatTest, SizesFollowTheFormula) {
  const size_t h = 100;
  for (uint64_t p : {0ull, 1ull, 65535ull, 65536ull, 65537ull, 3ull * 65536 + 5, 10ull << 20}) {
    const uint64_t stored = StoredSize(p, h);
    EXPECT_EQ(stored, h + p + (p / 65536 + 1) * 16) << p;
    Result<uint64_t> back = PlaintextSize(stored, h);
    ASSERT_TRUE(back.ok()) << p;
    EXPECT_EQ(*back, p);
  }
  // Cut at a chunk boundary (the final chunk gone) or inside the final chunk's tag.
  EXPECT_EQ(PlaintextSize(h + 65552, h).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(PlaintextSize(h + 15, h).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(PlaintextSize(h + 65552 + 15, h).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(PlaintextSize(h - 1, h).status().code(), StatusCode::kDataLoss);
}

TEST(EncryptedFileFormatTest, NonceAndAadLayout) {
  const auto nonce = ChunkNonce({9, 8, 7, 6}, 0x0102030405060708ull);
  EXPECT_EQ(nonce, (std::array<uint8_t, 12>{9, 8, 7, 6, 1, 2, 3, 4, 5, 6, 7, 8}));
  const std::string aad = ChunkAad(std::string(32, 'h'), 258, true);
  ASSERT_EQ(aad.size(), kChunkAadSize);
  EXPECT_EQ(aad.substr(32), std::string("\0\0\0\0\0\0\1\2\1", 9));
}

}  // namespace
}  // namespace callvault::crypto
