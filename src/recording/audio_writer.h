// Encoding of the rendered channels into the recording's audio file (libsndfile) and its
// durable hand-off: temp → fsync → rename → fsync dir, through the Fs seam (STYLE.md §5).
//
// Formats: WAV PCM16 (default) and Ogg/Opus (libsndfile ≥ 1.2, SF_FORMAT_OGG|SF_FORMAT_OPUS)
// at kOpusBitrateBps (variable bitrate), ≤ 14.4 MB per call-hour.
//
// Encryption at rest: given a tenant key, the same bytes are written through
// crypto::EncryptingFile (docs/formats/encrypted-audio.md), so only ciphertext reaches the disk.
//
// Called by: recording/finalizer.cc, tests, bench.
// Thread-safety: pure functions apart from the Fs calls (Fs is thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/status.h"
#include "crypto/tenant_key.h"

namespace callvault::recording {

enum class AudioFormat : uint8_t { kWav = 0, kOggOpus = 1 };

// Target Opus bitrate for a stereo call recording (2 × 12 kbit/s); 32 kbit/s = 14.4 MB/hour.
inline constexpr int kOpusBitrateBps = 24000;

std::string_view AudioFormatName(AudioFormat f);     // "wav" | "opus"
std::string_view AudioFileExtension(AudioFormat f);  // "wav" | "opus"
std::string_view AudioEncodingName(AudioFormat f);   // "pcm_s16le" | "opus"

// Encodes interleaved stereo (left[i], right[i]) into the bytes of a complete audio file.
// REQUIRES: left.size() == right.size(); sample_rate is 8000 or 16000.
Result<std::string> EncodeAudio(AudioFormat format, int sample_rate,
                                const std::vector<int16_t>& left,
                                const std::vector<int16_t>& right);

// Writes `bytes` to `path` durably: "<path>.tmp" (truncated if a crashed run left one), appended
// in 1 MiB chunks, fsync, close, rename over `path`, fsync of the directory. On failure the temp
// file is removed (best effort) and `path` is untouched.
[[nodiscard]] Status WriteAudioDurably(Fs& fs, const std::string& path, std::string_view bytes);

// The suffix appended to the audio file's name when it is encrypted ("x.wav" → "x.wav.cvenc"),
// so tools that go by the extension never take ciphertext for audio.
inline constexpr std::string_view kEncryptedFileSuffix = ".cvenc";

struct WrittenAudio {
  uint64_t bytes = 0;  // stored bytes: the file's size (ciphertext when encrypted)
  std::string sha256;  // lowercase hex SHA-256 of the stored bytes
  // Set when the file was encrypted: the plaintext size (the audio a reader gets back) and the
  // tenant key that wraps the file's data key.
  bool encrypted = false;
  uint64_t plaintext_bytes = 0;
  std::string key_id;
};

// Receives rendered frames (interleaved left, right) in order: the audio file being written
// (WriteAudioStream) or a test's collector.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  [[nodiscard]] virtual Status Write(const int16_t* interleaved, size_t frames) = 0;
};

// Writes the audio file durably (as WriteAudioDurably) from frames produced while it is being
// written, hashing it on the way, in memory bounded independently of the file's length:
// `produce` writes every frame of the recording through the sink it is given. WAV: `frames` must
// be the exact number `produce` writes (the header comes first); another count fails
// (Internal) and leaves nothing behind. Ogg/Opus: `frames` is not used; the encoder's pages are
// appended as libsndfile makes them. Encryption as WriteAudioFile.
Result<WrittenAudio> WriteAudioStream(Fs& fs, const std::string& path, AudioFormat format,
                                      int sample_rate, int64_t frames,
                                      const std::function<Status(FrameSink*)>& produce,
                                      const crypto::TenantKey* encrypt_with = nullptr);

// Encodes and writes the audio file durably (as WriteAudioDurably), hashing it on the way.
// The channels are fed to WriteAudioStream. With `encrypt_with` (non-null) the file is written
// through crypto::EncryptingFile under a fresh data key wrapped by that tenant key; `bytes` and
// `sha256` are then of the ciphertext. REQUIRES: left.size() == right.size().
Result<WrittenAudio> WriteAudioFile(Fs& fs, const std::string& path, AudioFormat format,
                                    int sample_rate, const std::vector<int16_t>& left,
                                    const std::vector<int16_t>& right,
                                    const crypto::TenantKey* encrypt_with = nullptr);

}  // namespace callvault::recording
