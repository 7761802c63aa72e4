#include "recording/audio_writer.h"

#include <openssl/evp.h>
#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>

#include "crypto/encrypting_file.h"
#include "crypto/sha256.h"

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

// A sink for the WAV header probe: keeps the first kKeep bytes, counts the rest.
constexpr size_t kKeep = 4096;
struct ProbeFile {
  std::string head;
  sf_count_t pos = 0, length = 0;
};
sf_count_t ProbeLength(void* user) { return static_cast<ProbeFile*>(user)->length; }
sf_count_t ProbeSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<ProbeFile*>(user);
  const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->length;
  if (base + offset < 0) return -1;
  return f->pos = base + offset;
}
sf_count_t ProbeRead(void*, sf_count_t, void*) { return 0; }
sf_count_t ProbeWrite(const void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<ProbeFile*>(user);
  if (f->pos < static_cast<sf_count_t>(kKeep)) {
    const size_t end = std::min<size_t>(kKeep, static_cast<size_t>(f->pos + count));
    if (f->head.size() < end) f->head.resize(end);
    std::memcpy(f->head.data() + f->pos, ptr, end - static_cast<size_t>(f->pos));
  }
  f->pos += count;
  f->length = std::max(f->length, f->pos);
  return count;
}
sf_count_t ProbeTell(void* user) { return static_cast<ProbeFile*>(user)->pos; }

// The header libsndfile writes for a stereo PCM16 WAV of `frames` frames: a dry run whose data
// is counted, not kept; sf_close() rewrites the header with the real sizes.
Result<std::string> WavHeader(int sample_rate, size_t frames) {
  ProbeFile file;
  SF_VIRTUAL_IO vio{ProbeLength, ProbeSeek, ProbeRead, ProbeWrite, ProbeTell};
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* sf = sf_open_virtual(&vio, SFM_WRITE, &info, &file);
  if (sf == nullptr) return InternalError(std::string("WAV header: ") + sf_strerror(nullptr));
  const std::vector<int16_t> zeros(2 * 8192, 0);
  for (size_t i = 0; i < frames; i += 8192) {
    const sf_count_t n = static_cast<sf_count_t>(std::min<size_t>(8192, frames - i));
    if (sf_writef_short(sf, zeros.data(), n) != n) {
      sf_close(sf);
      return InternalError("WAV header: libsndfile refused the frames");
    }
  }
  if (sf_close(sf) != 0) return InternalError("WAV header: closing failed");
  const sf_count_t data = static_cast<sf_count_t>(frames) * 4;
  const sf_count_t header = file.length - data;
  if (header <= 0 || header > static_cast<sf_count_t>(file.head.size()))
    return InternalError("WAV header: unexpected layout from libsndfile");
  return file.head.substr(0, static_cast<size_t>(header));
}

// What Durably() wrote when it encrypted: read from the EncryptingFile after its Close().
struct EncryptedOutput {
  uint64_t stored_bytes = 0;
  std::string stored_sha256;
  std::string key_id;
};

// temp → fsync → rename → fsync dir around `write`, which appends the content to the file.
// With `key`, the content goes through an EncryptingFile into the temp file and `*encrypted`
// receives the stored size, hash and key id.
Status Durably(Fs& fs, const std::string& path, const std::function<Status(AppendableFile*)>& write,
               const crypto::TenantKey* key = nullptr, EncryptedOutput* encrypted = nullptr) {
  const std::string tmp = path + ".tmp";
  Status s = [&]() -> Status {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs.NewWritableFile(tmp));
    crypto::EncryptingFile* enc = nullptr;
    if (key != nullptr) {
      CV_ASSIGN_OR_RETURN(std::unique_ptr<crypto::EncryptingFile> e,
                          crypto::EncryptingFile::Create(std::move(file), *key));
      enc = e.get();
      file = std::move(e);
    }
    CV_RETURN_IF_ERROR(write(file.get()));
    CV_RETURN_IF_ERROR(file->Sync());
    // An EncryptingFile writes its final chunk here and syncs again (Sync() was called).
    CV_RETURN_IF_ERROR(file->Close());
    if (enc != nullptr && encrypted != nullptr) {
      encrypted->stored_bytes = enc->stored_size();
      encrypted->stored_sha256 = enc->stored_sha256();
      encrypted->key_id = enc->key_id();
    }
    return fs.Rename(tmp, path);
  }();
  if (!s.ok()) {
    fs.Remove(tmp).IgnoreError();  // best effort: the next run truncates a leftover
    return s.Annotate("writing audio " + path);
  }
  return fs.SyncDir(DirName(path)).Annotate("writing audio " + path);
}

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
  return Durably(fs, path, [&](AppendableFile* file) -> Status {
    constexpr size_t kChunk = 1 << 20;
    for (size_t i = 0; i < bytes.size(); i += kChunk)
      CV_RETURN_IF_ERROR(file->Append(bytes.substr(i, kChunk)));
    return Status::Ok();
  });
}

namespace {

// libsndfile's output for a streamed Ogg/Opus file: appended to the (temp) file as it comes.
// Ogg is written front to back; a seek anywhere but the end would mean rewriting what is on disk
// already and fails.
struct StreamingFile {
  AppendableFile* file = nullptr;
  crypto::Sha256* sha = nullptr;  // of the plaintext; null when encrypting
  sf_count_t pos = 0;
  Status status;
};
sf_count_t StreamLength(void* user) { return static_cast<StreamingFile*>(user)->pos; }
sf_count_t StreamSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<StreamingFile*>(user);
  const sf_count_t target = (whence == SEEK_SET ? 0 : f->pos) + offset;
  if (target == f->pos) return f->pos;
  if (f->status.ok())
    f->status = InternalError("encoding audio: libsndfile seeks to " + std::to_string(target) +
                              " in a streamed file of " + std::to_string(f->pos) + " bytes");
  return -1;
}
sf_count_t StreamRead(void*, sf_count_t, void*) { return 0; }
sf_count_t StreamWrite(const void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<StreamingFile*>(user);
  if (!f->status.ok()) return 0;
  const std::string_view bytes(static_cast<const char*>(ptr), static_cast<size_t>(count));
  if (Status s = f->file->Append(bytes); !s.ok()) {
    f->status = s;
    return 0;
  }
  if (f->sha != nullptr) f->sha->Update(bytes);
  f->pos += count;
  return count;
}
sf_count_t StreamTell(void* user) { return static_cast<StreamingFile*>(user)->pos; }

// WAV PCM16 frames appended after the header, in 256 KiB writes.
class WavSink final : public FrameSink {
 public:
  WavSink(AppendableFile* file, crypto::Sha256* sha) : file_(file), sha_(sha) {}
  Status Write(const int16_t* interleaved, size_t frames) override {
    for (size_t i = 0; i < 2 * frames; ++i) {  // little-endian
      const uint16_t v = static_cast<uint16_t>(interleaved[i]);
      buf_.push_back(static_cast<char>(v & 0xff));
      buf_.push_back(static_cast<char>(v >> 8));
    }
    frames_ += static_cast<int64_t>(frames);
    return buf_.size() >= (256u << 10) ? Flush() : Status::Ok();
  }
  Status Flush() {
    CV_RETURN_IF_ERROR(file_->Append(buf_));
    sha_->Update(buf_);
    buf_.clear();
    return Status::Ok();
  }
  int64_t frames() const { return frames_; }

 private:
  AppendableFile* const file_;
  crypto::Sha256* const sha_;
  std::string buf_;
  int64_t frames_ = 0;
};

class OpusSink final : public FrameSink {
 public:
  explicit OpusSink(SNDFILE* sf, StreamingFile* out) : sf_(sf), out_(out) {}
  Status Write(const int16_t* interleaved, size_t frames) override {
    const sf_count_t n = static_cast<sf_count_t>(frames);
    if (sf_writef_short(sf_, interleaved, n) != n) {
      CV_RETURN_IF_ERROR(out_->status);
      return InternalError(std::string("encoding audio: ") + sf_strerror(sf_));
    }
    return out_->status;
  }

 private:
  SNDFILE* const sf_;
  StreamingFile* const out_;
};

}  // namespace

Result<WrittenAudio> WriteAudioStream(Fs& fs, const std::string& path, AudioFormat format,
                                      int sample_rate, int64_t frames,
                                      const std::function<Status(FrameSink*)>& produce,
                                      const crypto::TenantKey* encrypt_with) {
  WrittenAudio out;
  EncryptedOutput enc;
  crypto::Sha256 sha;  // of the plaintext
  uint64_t plain_bytes = 0;
  std::string header;
  if (format == AudioFormat::kWav) {
    if (frames < 0) return InternalError("writing audio: negative frame count");
    CV_ASSIGN_OR_RETURN(header, WavHeader(sample_rate, static_cast<size_t>(frames)));
  }
  CV_RETURN_IF_ERROR(Durably(
      fs, path,
      [&](AppendableFile* file) -> Status {
        if (format == AudioFormat::kWav) {
          CV_RETURN_IF_ERROR(file->Append(header));
          sha.Update(header);
          WavSink sink(file, &sha);
          CV_RETURN_IF_ERROR(produce(&sink));
          CV_RETURN_IF_ERROR(sink.Flush());
          if (sink.frames() != frames)
            return InternalError("writing audio: " + std::to_string(sink.frames()) +
                                 " frames rendered, " + std::to_string(frames) +
                                 " announced in the WAV header");
          plain_bytes = header.size() + 4 * static_cast<uint64_t>(frames);
          return Status::Ok();
        }
        StreamingFile sf_out{.file = file, .sha = &sha};
        SF_VIRTUAL_IO vio{StreamLength, StreamSeek, StreamRead, StreamWrite, StreamTell};
        SF_INFO info{};
        info.samplerate = sample_rate;
        info.channels = 2;
        info.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
        SNDFILE* sf = sf_open_virtual(&vio, SFM_WRITE, &info, &sf_out);
        if (sf == nullptr) {
          CV_RETURN_IF_ERROR(sf_out.status);
          return InternalError(std::string("encoding audio: libsndfile: ") + sf_strerror(nullptr));
        }
        int mode = SF_BITRATE_MODE_VARIABLE;
        sf_command(sf, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
        double level = kOpusCompressionLevel;  // see EncodeAudio
        sf_command(sf, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
        OpusSink sink(sf, &sf_out);
        Status produced = produce(&sink);
        const int closed = sf_close(sf);
        CV_RETURN_IF_ERROR(produced);
        CV_RETURN_IF_ERROR(sf_out.status);
        if (closed != 0) return InternalError("encoding audio: closing failed");
        plain_bytes = static_cast<uint64_t>(sf_out.pos);
        return Status::Ok();
      },
      encrypt_with, &enc));
  if (encrypt_with == nullptr) {
    out.bytes = plain_bytes;
    out.sha256 = sha.HexDigest();
  } else {
    out.encrypted = true;
    out.plaintext_bytes = plain_bytes;
    out.bytes = enc.stored_bytes;
    out.sha256 = enc.stored_sha256;
    out.key_id = enc.key_id;
  }
  return out;
}

Result<WrittenAudio> WriteAudioFile(Fs& fs, const std::string& path, AudioFormat format,
                                    int sample_rate, const std::vector<int16_t>& left,
                                    const std::vector<int16_t>& right,
                                    const crypto::TenantKey* encrypt_with) {
  if (left.size() != right.size()) return InternalError("writing audio: channel lengths differ");
  return WriteAudioStream(
      fs, path, format, sample_rate, static_cast<int64_t>(left.size()),
      [&](FrameSink* sink) -> Status {
        constexpr size_t kFrames = 1 << 14;
        std::vector<int16_t> interleaved(2 * kFrames);
        for (size_t i = 0; i < left.size(); i += kFrames) {
          const size_t n = std::min(kFrames, left.size() - i);
          for (size_t k = 0; k < n; ++k) {
            interleaved[2 * k] = left[i + k];
            interleaved[2 * k + 1] = right[i + k];
          }
          CV_RETURN_IF_ERROR(sink->Write(interleaved.data(), n));
        }
        return Status::Ok();
      },
      encrypt_with);
}

}  // namespace callvault::recording
