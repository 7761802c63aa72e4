#include "waveform/peaks.h"

#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace callvault::waveform {
namespace {

// libsndfile's virtual I/O over an AudioReader: reads are positioned (pread-like), the
// position lives here.
struct Source {
  storage::AudioReader* reader;
  sf_count_t pos = 0;
  Status error = Status::Ok();  // the first read error (libsndfile only sees "0 bytes")
};

sf_count_t Length(void* user) {
  return static_cast<sf_count_t>(static_cast<Source*>(user)->reader->size());
}

sf_count_t Seek(sf_count_t offset, int whence, void* user) {
  Source* s = static_cast<Source*>(user);
  const sf_count_t size = static_cast<sf_count_t>(s->reader->size());
  sf_count_t to = offset;
  if (whence == SEEK_CUR) to = s->pos + offset;
  if (whence == SEEK_END) to = size + offset;
  if (to < 0) return -1;
  s->pos = to;
  return s->pos;
}

sf_count_t Read(void* ptr, sf_count_t count, void* user) {
  Source* s = static_cast<Source*>(user);
  if (count <= 0 || !s->error.ok()) return 0;
  Result<size_t> n = s->reader->Read(static_cast<uint64_t>(s->pos), static_cast<size_t>(count),
                                     static_cast<char*>(ptr));
  if (!n.ok()) {
    s->error = n.status();
    return 0;
  }
  s->pos += static_cast<sf_count_t>(*n);
  return static_cast<sf_count_t>(*n);
}

sf_count_t Write(const void*, sf_count_t, void*) { return 0; }  // read-only

sf_count_t Tell(void* user) { return static_cast<Source*>(user)->pos; }

struct Closer {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

constexpr sf_count_t kChunkFrames = 8192;

}  // namespace

Result<Peaks> ComputePeaks(storage::AudioReader& reader, int points) {
  if (points < kMinPoints || points > kMaxPoints)
    return InvalidArgumentError("points must be " + std::to_string(kMinPoints) + ".." +
                                std::to_string(kMaxPoints) + ", not " + std::to_string(points));
  Source src{.reader = &reader};
  SF_VIRTUAL_IO io{Length, Seek, Read, Write, Tell};
  SF_INFO info;
  std::memset(&info, 0, sizeof(info));
  std::unique_ptr<SNDFILE, Closer> file(sf_open_virtual(&io, SFM_READ, &info, &src));
  if (!src.error.ok()) return src.error.Annotate("waveform: reading the audio");
  if (!file)
    return InvalidArgumentError(std::string("waveform: not audio libsndfile can read: ") +
                                sf_strerror(nullptr));
  if (info.channels < 1 || info.channels > 8)
    return InvalidArgumentError("waveform: " + std::to_string(info.channels) + " channels");

  Peaks out;
  out.channels = info.channels;
  out.sample_rate = info.samplerate;
  out.frames = std::max<sf_count_t>(0, info.frames);
  out.points = static_cast<int>(std::min<int64_t>(points, out.frames));
  out.min.assign(out.channels, std::vector<float>(out.points, 1.0f));
  out.max.assign(out.channels, std::vector<float>(out.points, -1.0f));
  if (out.points == 0) return out;

  std::vector<float> buf(static_cast<size_t>(kChunkFrames) * out.channels);
  int64_t frame = 0;
  while (frame < out.frames) {
    const sf_count_t n = sf_readf_float(file.get(), buf.data(), kChunkFrames);
    if (n <= 0) break;
    for (sf_count_t i = 0; i < n && frame < out.frames; ++i, ++frame) {
      // Slice of this frame: frames spread evenly over the points.
      const size_t slice = static_cast<size_t>(frame * out.points / out.frames);
      const float* f = &buf[static_cast<size_t>(i) * out.channels];
      for (int c = 0; c < out.channels; ++c) {
        const float v = std::clamp(f[c], -1.0f, 1.0f);
        out.min[c][slice] = std::min(out.min[c][slice], v);
        out.max[c][slice] = std::max(out.max[c][slice], v);
      }
    }
  }
  if (!src.error.ok()) return src.error.Annotate("waveform: reading the audio");
  if (frame < out.frames)
    return DataLossError("waveform: the audio ends after " + std::to_string(frame) + " of " +
                         std::to_string(out.frames) + " frames");
  return out;
}

}  // namespace callvault::waveform
