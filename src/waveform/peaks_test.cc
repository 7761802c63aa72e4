#include "waveform/peaks.h"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "waveform/cache.h"

namespace callvault::waveform {
namespace {

// An AudioReader over bytes in memory.
class StringReader final : public storage::AudioReader {
 public:
  explicit StringReader(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  std::string etag() const override { return ""; }
  Result<size_t> Read(uint64_t offset, size_t len, char* buf) override {
    if (offset >= bytes_.size()) return size_t{0};
    const size_t n = std::min<size_t>(len, bytes_.size() - offset);
    std::memcpy(buf, bytes_.data() + offset, n);
    return n;
  }

 private:
  const std::string bytes_;
};

// A stereo file as the finalizer writes it: left a 440 Hz sine at `amplitude`, right silent.
std::string MakeAudio(int format, int rate, double seconds, double amplitude) {
  char path[] = "/tmp/cv-waveform-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = format;
  SNDFILE* f = sf_open(path, SFM_WRITE, &info);
  EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
  if (!f) return "";
  const int frames = static_cast<int>(rate * seconds);
  std::vector<float> buf(static_cast<size_t>(frames) * 2);
  for (int i = 0; i < frames; ++i) {
    buf[2 * i] = static_cast<float>(amplitude * std::sin(2 * M_PI * 440.0 * i / rate));
    buf[2 * i + 1] = 0.0f;
  }
  EXPECT_EQ(sf_writef_float(f, buf.data(), frames), frames);
  sf_close(f);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path);
  return ss.str();
}

void ExpectToneLeftSilenceRight(const Peaks& p, double amplitude, double tolerance) {
  ASSERT_EQ(p.channels, 2);
  for (int i = 0; i < p.points; ++i) {
    EXPECT_NEAR(p.max[0][i], amplitude, tolerance) << "slice " << i;
    EXPECT_NEAR(p.min[0][i], -amplitude, tolerance) << "slice " << i;
    EXPECT_NEAR(p.max[1][i], 0.0, 0.01) << "slice " << i;  // a silent channel is flat
    EXPECT_NEAR(p.min[1][i], 0.0, 0.01) << "slice " << i;
  }
}

TEST(PeaksTest, WavChannelsAreMeasuredSliceBySlice) {
  StringReader r(MakeAudio(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 3.0, 0.5));
  Result<Peaks> p = ComputePeaks(r, 300);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->points, 300);
  EXPECT_EQ(p->frames, 24000);
  EXPECT_EQ(p->sample_rate, 8000);
  ExpectToneLeftSilenceRight(*p, 0.5, 0.01);
}

TEST(PeaksTest, OggOpusToo) {
  const std::string opus = MakeAudio(SF_FORMAT_OGG | SF_FORMAT_OPUS, 16000, 3.0, 0.5);
  ASSERT_FALSE(opus.empty());
  StringReader r(opus);
  Result<Peaks> p = ComputePeaks(r, 50);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->points, 50);
  // Lossy: the first slice holds the codec's ramp-in; the rest carry the tone.
  Peaks rest = *p;
  for (auto* v : {&rest.min, &rest.max})
    for (auto& ch : *v) ch.erase(ch.begin());
  rest.points = p->points - 1;
  ExpectToneLeftSilenceRight(rest, 0.5, 0.1);
}

TEST(PeaksTest, FewerFramesThanPointsGiveOneSlicePerFrame) {
  StringReader r(MakeAudio(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 0.01, 0.5));  // 80 frames
  Result<Peaks> p = ComputePeaks(r, 1000);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->points, 80);
}

TEST(PeaksTest, BadInputIsRefusedWithAReason) {
  StringReader junk(std::string(5000, 'x'));
  Result<Peaks> p = ComputePeaks(junk, 10);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << p.status().ToString();
  StringReader wav(MakeAudio(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 0.5, 0.5));
  EXPECT_EQ(ComputePeaks(wav, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputePeaks(wav, kMaxPoints + 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(WaveformCacheTest, ComputesOncePerHashAndPointsAndBoundsItsWork) {
  const std::string wav = MakeAudio(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1.0, 0.5);
  WaveformCache cache;
  auto open = [&]() -> Result<std::unique_ptr<storage::AudioReader>> {
    return std::unique_ptr<storage::AudioReader>(new StringReader(wav));
  };
  ASSERT_TRUE(cache.Get("abc", 100, open).ok());
  ASSERT_TRUE(cache.Get("abc", 100, open).ok());
  EXPECT_EQ(cache.computed(), 1u);
  ASSERT_TRUE(cache.Get("abc", 200, open).ok());
  ASSERT_TRUE(cache.Get("", 100, open).ok());  // unknown hash: never cached
  ASSERT_TRUE(cache.Get("", 100, open).ok());
  EXPECT_EQ(cache.computed(), 4u);
  EXPECT_EQ(cache.entries(), 2u);

  // One computation at a time, 50 ms of patience: a second caller gets Unavailable.
  WaveformCache one({.max_concurrent = 1, .wait = std::chrono::milliseconds(50)});
  std::promise<void> started, release;
  std::shared_future<void> go = release.get_future().share();
  auto slow = [&]() -> Result<std::unique_ptr<storage::AudioReader>> {
    started.set_value();
    go.wait();
    return std::unique_ptr<storage::AudioReader>(new StringReader(wav));
  };
  std::thread t([&] { EXPECT_TRUE(one.Get("x", 10, slow).ok()); });
  started.get_future().wait();
  Result<std::shared_ptr<const Peaks>> busy = one.Get("y", 10, open);
  EXPECT_EQ(busy.status().code(), StatusCode::kUnavailable) << busy.status().ToString();
  release.set_value();
  t.join();
  EXPECT_TRUE(one.Get("y", 10, open).ok());

  // Bounded by bytes: old entries go.
  WaveformCache small({.max_bytes = 3 * (sizeof(Peaks) + 2 * 4 * 2 * 100)});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(small.Get("h" + std::to_string(i), 100, open).ok());
  EXPECT_LE(small.bytes(), 3 * (sizeof(Peaks) + 2 * 4 * 2 * 100));
  EXPECT_EQ(small.entries(), 3u);
}

}  // namespace
}  // namespace callvault::waveform
