// Waveform peaks of a recording: for N equal slices of the audio, the minimum and maximum sample
// of each channel — what the portal draws (one waveform per channel, click to seek) and what
// `GET /api/v1/calls/{id}/waveform?points=N` answers (issue 16). Computed server-side from the
// stored audio through libsndfile (WAV and Ogg/Opus: the two formats the finalizer writes), read
// in bounded chunks from a storage::AudioReader (local file, S3 ranges, decrypting reader alike),
// so a call of any length costs a few hundred KiB of memory.
//
// Who calls it: http/ (the waveform route, through WaveformCache). Thread-safety: ComputePeaks is
// reentrant (one reader per call; AudioReader::Read is thread-safe).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "storage/recording_store.h"

namespace callvault::waveform {

inline constexpr int kMinPoints = 1;
inline constexpr int kMaxPoints = 10000;

struct Peaks {
  int channels = 0;
  int sample_rate = 0;
  int64_t frames = 0;  // samples per channel in the file
  int points = 0;      // slices actually produced: min(requested, frames), ≥ 1 unless empty
  // min[c][i], max[c][i]: the extremes of channel c in slice i, as -1.0 … 1.0. A slice without
  // samples (only when frames < requested points) does not exist: `points` is reduced instead.
  std::vector<std::vector<float>> min, max;
};

// Peaks of the audio `reader` holds, in `points` slices (kMinPoints..kMaxPoints, else
// InvalidArgument). InvalidArgument naming libsndfile's complaint when the bytes are not audio it
// can read (DataLoss when reading stops short of the length the header announced); read errors
// of the reader pass through.
Result<Peaks> ComputePeaks(storage::AudioReader& reader, int points);

}  // namespace callvault::waveform
