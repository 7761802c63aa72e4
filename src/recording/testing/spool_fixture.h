// Test-only helpers for recording/ tests and the finalize benchmark: a spool directory builder
// on media/'s CallSpoolWriter and SessionLog, RTP packet generation (G.711 by formula, G.722 via
// spandsp) with a sender clock that may drift, network delay and jitter, and WAV analysis
// (Goertzel, clicks, RMS).
//
// Callers: src/recording/*_test.cc, bench/finalize_bench.cc. Thread-safety: none (one test).
#pragma once

#include <opus/opus.h>
#include <sndfile.h>
#include <spandsp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "media/call_spool_writer.h"
#include "media/internal/spool_v1_bytes.h"
#include "media/session_log.h"

namespace callvault::recording::testing {

inline uint8_t LinearToUlaw(int pcm) {  // ITU-T G.711 µ-law (Sun reference formula)
  static const int kEnd[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
  int mask = 0xFF;
  pcm >>= 2;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7F;
  }
  if (pcm > 8159) pcm = 8159;
  pcm += 0x84 >> 2;
  int seg = 0;
  while (seg < 8 && pcm > kEnd[seg]) ++seg;
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  return static_cast<uint8_t>(((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask);
}

inline uint8_t LinearToAlaw(int pcm) {  // ITU-T G.711 A-law (Sun reference formula)
  static const int kEnd[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
  int mask;
  pcm >>= 3;
  if (pcm >= 0) {
    mask = 0xD5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  int seg = 0;
  while (seg < 8 && pcm > kEnd[seg]) ++seg;
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int aval = seg << 4;
  aval |= seg < 2 ? (pcm >> 1) & 0xF : (pcm >> seg) & 0xF;
  return static_cast<uint8_t>(aval ^ mask);
}

// A signal as a function of the sender's wall time in seconds since the call start.
using Signal = std::function<double(double t)>;
inline Signal Tone(double freq, double amplitude = 8000) {
  return [=](double t) { return amplitude * std::sin(2 * M_PI * freq * t); };
}
// A tone with a full-scale 5 ms click at each of `clicks` (s) and otherwise quiet (amplitude 300).
inline Signal ToneWithClicks(double freq, std::vector<double> clicks) {
  return [=](double t) {
    for (double c : clicks)
      if (t >= c && t < c + 0.005) return 30000.0;
    return 300 * std::sin(2 * M_PI * freq * t);
  };
}

struct Packet {
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint32_t ssrc = 0;
  uint8_t pt = 0;
  bool marker = false;
  std::string payload;
  int64_t arrival_ns = 0;

  std::string Bytes() const {
    std::string b(12, '\0');
    b[0] = static_cast<char>(0x80);
    b[1] = static_cast<char>((marker ? 0x80 : 0) | pt);
    b[2] = static_cast<char>(seq >> 8), b[3] = static_cast<char>(seq);
    for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<char>(ts >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) b[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
    return b + payload;
  }
};

struct StreamSpec {
  std::string codec = "PCMU";  // PCMU | PCMA | G722 | opus (48 kHz clock, 24 kbit/s)
  uint8_t pt = 0;
  uint32_t ssrc = 0x11111111;
  uint16_t seq0 = 1000;
  uint32_t ts0 = 123456;
  int64_t start_ns = 0;  // wall clock of the first sample
  double start_s = 0;    // call time (s) of the first sample (for the signal)
  double seconds = 10;
  int ptime_ms = 20;
  double drift_ppm = 0;  // sender clock runs fast by this much
  int64_t delay_ns = 40'000'000;
  int64_t jitter_ns = 0;  // uniform extra delay in [0, jitter)
  uint32_t seed = 1;
  Signal signal = Tone(1000);
};

// Packets in send order (arrival_ns set; callers may reorder, drop or duplicate).
inline std::vector<Packet> MakeStream(const StreamSpec& s) {
  const bool wide = s.codec == "G722";
  const bool opus = s.codec == "opus";
  const int rate = opus ? 48000 : wide ? 16000 : 8000;
  const int samples = rate * s.ptime_ms / 1000;
  const int units = (opus ? 48000 : 8000) * s.ptime_ms / 1000;
  int opus_err = 0;
  OpusEncoder* opus_enc =
      opus ? opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &opus_err) : nullptr;
  if (opus_enc) opus_encoder_ctl(opus_enc, OPUS_SET_BITRATE(24000));
  const int count = static_cast<int>(s.seconds * 1000 / s.ptime_ms);
  const double scale = 1.0 / (1.0 + s.drift_ppm * 1e-6);  // true seconds per sender second
  g722_encode_state_t* g722 = wide ? g722_encode_init(nullptr, 64000, 0) : nullptr;
  uint32_t rng = s.seed * 2654435761u + 1;
  std::vector<Packet> out;
  std::vector<int16_t> pcm(samples);
  std::vector<uint8_t> coded(samples);
  for (int n = 0; n < count; ++n) {
    for (int k = 0; k < samples; ++k) {
      const double t = s.start_s + (static_cast<double>(n) * samples + k) / rate * scale;
      pcm[k] = static_cast<int16_t>(std::clamp(s.signal(t), -32768.0, 32767.0));
    }
    Packet p;
    p.seq = static_cast<uint16_t>(s.seq0 + n);
    p.ts = s.ts0 + static_cast<uint32_t>(n * units);
    p.ssrc = s.ssrc;
    p.pt = s.pt;
    p.marker = n == 0;
    if (opus) {
      std::vector<unsigned char> out(1500);
      const int len = opus_encode(opus_enc, pcm.data(), samples, out.data(), 1500);
      p.payload.assign(reinterpret_cast<char*>(out.data()), std::max(len, 0));
    } else if (wide) {
      const int len = g722_encode(g722, coded.data(), pcm.data(), samples);
      p.payload.assign(reinterpret_cast<char*>(coded.data()), len);
    } else {
      for (int k = 0; k < samples; ++k)
        p.payload.push_back(
            static_cast<char>(s.codec == "PCMA" ? LinearToAlaw(pcm[k]) : LinearToUlaw(pcm[k])));
    }
    rng = rng * 1664525u + 1013904223u;
    const int64_t jitter =
        s.jitter_ns > 0 ? static_cast<int64_t>((rng >> 8) % static_cast<uint32_t>(s.jitter_ns)) : 0;
    // Sent when its last sample was captured.
    const double sent_s = (static_cast<double>(n + 1) * samples) / rate * scale;
    p.arrival_ns = s.start_ns + static_cast<int64_t>(sent_s * 1e9) + s.delay_ns + jitter;
    out.push_back(std::move(p));
  }
  if (g722) g722_encode_free(g722);
  if (opus_enc) opus_encoder_destroy(opus_enc);
  return out;
}

inline nlohmann::json PayloadMap(const std::string& codec, int pt) {
  const bool opus = codec == "opus";
  return {
      {std::to_string(pt),
       {{"name", codec}, {"rate", opus ? 48000 : 8000}, {"channels", opus ? 2 : 1}, {"fmtp", ""}}},
      {"101", {{"name", "telephone-event"}, {"rate", 8000}, {"channels", 1}, {"fmtp", "0-15"}}}};
}

// Builds data/spool/<call-id>/ with the real writers. Time for log lines comes from `clock`.
class SpoolBuilder {
 public:
  SpoolBuilder(Fs* fs, std::string dir, int64_t start_ns)
      : fs_(fs),
        dir_(std::move(dir)),
        clock_(std::chrono::system_clock::time_point(std::chrono::nanoseconds(start_ns))) {
    log_ = media::SessionLog::Open(fs_, &clock_, dir_).value();
  }
  const std::string& dir() const { return dir_; }

  void Line(int64_t at_ns, std::string_view type, nlohmann::json fields) {
    clock_.SetWall(std::chrono::system_clock::time_point(std::chrono::nanoseconds(at_ns)));
    if (!log_->Append(type, fields).ok()) std::abort();
  }
  void Start(int64_t at_ns, const std::string& from = "<sip:+15551234567@a.example>;tag=1",
             const std::string& to = "<sip:bob@b.example>") {
    Line(at_ns, "start",
         {{"call_id", CallId()},
          {"node_id", "rec-a"},
          {"sip_call_id", "abc@10.0.0.1"},
          {"from", from},
          {"to", to},
          {"src", "10.0.0.1:5060"},
          {"transport", "UDP"},
          {"user_agent", "test"},
          {"request_uri", "sip:rec@b"},
          {"headers", {{"X-Test", "1"}}}});
  }
  void Stream(int64_t at_ns, const std::string& id, int index, const std::string& codec, int pt) {
    Line(at_ns, "stream",
         {{"stream", id},
          {"index", index},
          {"label", std::to_string(index + 1)},
          {"local_port", 40000 + 2 * index},
          {"payload_types", PayloadMap(codec, pt)},
          {"direction", "recvonly"},
          {"srtp", false}});
  }
  void End(int64_t at_ns, const std::string& reason = "bye") {
    Line(at_ns, "end", {{"reason", reason}});
  }

  // Writes a stream's packets into the call's media.spool (version 2, the engine's format), in
  // the order given (arrival order), under a slot of their own.
  void Rtp(const std::string& id, const std::vector<Packet>& packets) {
    if (spool_ == nullptr)
      spool_ = media::CallSpoolWriter::Create(
                   fs_, dir_ + "/" + std::string(media::spool::kCallSpoolName))
                   .value();
    const uint16_t slot =
        spool_->AddSlot(id, packets.empty() ? 0 : packets.front().arrival_ns).value();
    for (size_t i = 0; i < packets.size(); ++i) {
      spool_->Append(slot, media::spool::RecordKind::kRtp, 0, packets[i].arrival_ns,
                     packets[i].Bytes());
      if (i % 256 == 255 && !spool_->Flush().ok()) std::abort();  // the buffer is bounded
    }
    if (!spool_->Flush().ok()) std::abort();
  }
  // The same as a version 1 file `<id>.rtp` (what an older version left: readers still read it).
  void RtpV1(const std::string& id, const std::vector<Packet>& packets) {
    std::string file = media::testing::SpoolV1Header();
    for (const Packet& p : packets)
      media::testing::AppendSpoolV1Record(&file, media::spool::RecordKind::kRtp, 0, p.arrival_ns,
                                          p.Bytes());
    if (!WriteFileDurably(*fs_, dir_ + "/" + id + ".rtp", file).ok()) std::abort();
  }
  void Close() {
    if (spool_ != nullptr && !spool_->Close().ok()) std::abort();
    (void)log_->Close();
  }
  std::string CallId() const { return dir_.substr(dir_.rfind('/') + 1); }

 private:
  Fs* fs_;
  std::string dir_;
  FakeClock clock_;
  std::shared_ptr<media::SessionLog> log_;
  std::shared_ptr<media::CallSpoolWriter> spool_;
};

// A long two-stream G.711 call (PCMU 440 Hz both ways, 20 ms packets, up to 10 ms of jitter)
// written straight into `dir`: session log lines and a version 2 media.spool, `seconds` of
// audio without real time passing. For the bounded-memory tests and the finalize benchmark.
inline void WriteLongCall(Fs* fs, const std::string& dir, int64_t start_ns, int64_t seconds) {
  SpoolBuilder b(fs, dir, start_ns);
  b.Start(start_ns);
  b.Stream(start_ns, "s0", 0, "PCMU", 0);
  b.Stream(start_ns, "s1", 1, "PCMU", 0);
  std::string tone(8000, '\0');  // one second of µ-law
  for (int k = 0; k < 8000; ++k)
    tone[static_cast<size_t>(k)] = static_cast<char>(
        LinearToUlaw(static_cast<int>(8000 * std::sin(2 * M_PI * 440 * k / 8000.0))));
  auto w = media::CallSpoolWriter::Create(fs, dir + "/" + std::string(media::spool::kCallSpoolName))
               .value();
  const uint16_t slots[2] = {w->AddSlot("s0", start_ns).value(),
                             w->AddSlot("s1", start_ns).value()};
  uint32_t rng = 1;
  for (int64_t n = 0; n < seconds * 50; ++n) {
    for (int s = 0; s < 2; ++s) {
      Packet p;
      p.seq = static_cast<uint16_t>(n + 1000 * s);
      p.ts = static_cast<uint32_t>(160 * n + 77777 * s);
      p.ssrc = 100u + static_cast<uint32_t>(s);
      p.marker = n == 0;
      p.payload = tone.substr(static_cast<size_t>(n % 50) * 160, 160);
      rng = rng * 1664525u + 1013904223u;
      const int64_t arrival =
          start_ns + (n + 2) * 20'000'000 + static_cast<int64_t>((rng >> 8) % 10'000'000);
      w->Append(slots[s], media::spool::RecordKind::kRtp, 0, arrival, p.Bytes());
    }
    if (n % 128 == 127 && !w->Flush().ok()) std::abort();
  }
  if (!w->Close().ok()) std::abort();
  b.End(start_ns + (seconds + 1) * 1'000'000'000);
  b.Close();
}

struct Wav {
  int rate = 0, channels = 0;
  std::vector<int16_t> left, right;
};
inline Wav ReadWav(const std::string& path) {
  Wav w;
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return w;
  w.rate = info.samplerate;
  w.channels = info.channels;
  std::vector<int16_t> buf(static_cast<size_t>(info.frames) * info.channels);
  sf_readf_short(f, buf.data(), info.frames);
  sf_close(f);
  for (sf_count_t i = 0; i < info.frames; ++i) {
    w.left.push_back(buf[i * info.channels]);
    w.right.push_back(buf[i * info.channels + (info.channels > 1 ? 1 : 0)]);
  }
  return w;
}

inline double Goertzel(const std::vector<int16_t>& x, size_t begin, size_t n, int rate, double f) {
  const double coeff = 2.0 * std::cos(2.0 * M_PI * f / rate);
  double s1 = 0, s2 = 0;
  for (size_t i = begin; i < begin + n && i < x.size(); ++i) {
    const double s0 = x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}
inline double Rms(const std::vector<int16_t>& x, size_t begin, size_t n) {
  double sum = 0;
  size_t c = 0;
  for (size_t i = begin; i < begin + n && i < x.size(); ++i, ++c) sum += double(x[i]) * x[i];
  return c ? std::sqrt(sum / c) : 0;
}
// Index of the first sample at or after `from` whose magnitude exceeds `threshold`, or -1.
inline int64_t FindClick(const std::vector<int16_t>& x, size_t from, int threshold = 15000) {
  for (size_t i = from; i < x.size(); ++i)
    if (std::abs(x[i]) > threshold) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace callvault::recording::testing
