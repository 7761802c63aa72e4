#include "recording/audio_writer.h"

#include <openssl/evp.h>
#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace callvault::recording {
namespace {

// libsndfile 1.2 (ogg_opus.c) maps SFC_SET_COMPRESSION_LEVEL linearly onto the Opus bitrate:
// bitrate = min + (1 − level)·(max − min) with min 6 kbit/s and max 256 kbit/s per channel, so
// for stereo 0.976 ≈ 12 000 + 0.024 · 500 000 = 24 kbit/s (measured: 22.6–25.1 kbit/s with the
// Ogg framing, 8 and 16 kHz). Keep it in step with kOpusBitrateBps.
constexpr double kOpusCompressionLevel = 0.976;

// A growable in-memory file for sf_open_virtual.
struct MemoryFile {
  std::string data;
  sf_count_t pos = 0;
};

sf_count_t VioLength(void* user) {
  return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->data.size());
}
sf_count_t VioSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET   ? 0
                    : whence == SEEK_CUR ? f->pos
                                         : static_cast<sf_count_t>(f->data.size());
  if (base + offset < 0) return -1;
  f->pos = base + offset;
  return f->pos;
}
sf_count_t VioRead(void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t size = static_cast<sf_count_t>(f->data.size());
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - f->pos));
  if (n > 0) std::memcpy(ptr, f->data.data() + f->pos, static_cast<size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t VioWrite(const void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const size_t end = static_cast<size_t>(f->pos + count);
  if (f->data.size() < end) f->data.resize(end);
  std::memcpy(f->data.data() + f->pos, ptr, static_cast<size_t>(count));
  f->pos += count;
  return count;
}
sf_count_t VioTell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

}  // namespace

std::string_view AudioFormatName(AudioFormat f) { return f == AudioFormat::kWav ? "wav" : "opus"; }
std::string_view AudioFileExtension(AudioFormat f) {
  return f == AudioFormat::kWav ? "wav" : "opus";
}
std::string_view AudioEncodingName(AudioFormat f) {
  return f == AudioFormat::kWav ? "pcm_s16le" : "opus";
}

Result<std::string> EncodeAudio(AudioFormat format, int sample_rate,
                                const std::vector<int16_t>& left,
                                const std::vector<int16_t>& right) {
  if (left.size() != right.size()) return InternalError("encoding audio: channel lengths differ");
  MemoryFile file;
  SF_VIRTUAL_IO vio{VioLength, VioSeek, VioRead, VioWrite, VioTell};
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 2;
  info.format = format == AudioFormat::kWav ? (SF_FORMAT_WAV | SF_FORMAT_PCM_16)
                                            : (SF_FORMAT_OGG | SF_FORMAT_OPUS);
  std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> sf(sf_open_virtual(&vio, SFM_WRITE, &info, &file),
                                                 sf_close);
  if (sf == nullptr)
    return InternalError(std::string("encoding audio: libsndfile: ") + sf_strerror(nullptr));
  if (format == AudioFormat::kOggOpus) {
    int mode = SF_BITRATE_MODE_VARIABLE;
    sf_command(sf.get(), SFC_SET_BITRATE_MODE, &mode, sizeof mode);
    // libsndfile maps the level (0 = best quality .. 1 = smallest) linearly onto the Opus
    // bitrate range; kOpusBitrateBps is reached near this value (checked by the size test).
    double level = kOpusCompressionLevel;
    sf_command(sf.get(), SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
  }
  constexpr size_t kChunk = 4096;
  std::vector<int16_t> interleaved(2 * kChunk);
  for (size_t i = 0; i < left.size(); i += kChunk) {
    const size_t n = std::min(kChunk, left.size() - i);
    for (size_t k = 0; k < n; ++k) {
      interleaved[2 * k] = left[i + k];
      interleaved[2 * k + 1] = right[i + k];
    }
    if (sf_writef_short(sf.get(), interleaved.data(), static_cast<sf_count_t>(n)) !=
        static_cast<sf_count_t>(n))
      return InternalError(std::string("encoding audio: ") + sf_strerror(sf.get()));
  }
  if (sf_close(sf.release()) != 0) return InternalError("encoding audio: closing failed");
  return std::move(file.data);
}

Status WriteAudioDurably(Fs& fs, const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  Status s = [&]() -> Status {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs.NewWritableFile(tmp));
    constexpr size_t kChunk = 1 << 20;
    for (size_t i = 0; i < bytes.size(); i += kChunk)
      CV_RETURN_IF_ERROR(file->Append(bytes.substr(i, kChunk)));
    CV_RETURN_IF_ERROR(file->Sync());
    CV_RETURN_IF_ERROR(file->Close());
    return fs.Rename(tmp, path);
  }();
  if (!s.ok()) {
    fs.Remove(tmp).IgnoreError();  // best effort: the next run truncates a leftover
    return s.Annotate("writing audio " + path);
  }
  return fs.SyncDir(DirName(path)).Annotate("writing audio " + path);
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace callvault::recording
