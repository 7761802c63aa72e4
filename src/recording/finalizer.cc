#include "recording/finalizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>

#include "base/log.h"
#include "base/time_format.h"
#include "base/uuid.h"
#include "media/call_spool_reader.h"
#include "media/spool_format.h"
#include "recording/claim.h"
#include "recording/name_template.h"
#include "recording/session_log.h"
#include "recording/stream_renderer.h"
#include "recording/timeline_builder.h"

namespace callvault::recording {
namespace {

constexpr char kClaimFile[] = "CLAIM";

CallState DeriveState(const SessionLog& log) {
  if (!log.has_end) return CallState::kPartial;
  if (log.end_state == CallStateName(CallState::kCompleted)) return CallState::kCompleted;
  if (log.end_state == CallStateName(CallState::kTimedOut)) return CallState::kTimedOut;
  const std::string& r = log.end_reason;
  if (r == "rtp_timeout" || r == "session_expired" || r == "ack_timeout" || r == "refresh_failed")
    return CallState::kTimedOut;
  return CallState::kCompleted;
}

// Everything pass 1 read from the spool that the rendering and the manifest need.
struct SpoolData {
  SessionLog log;
  std::vector<StreamInfo> streams;   // by m-line index
  std::vector<BuiltTimeline> built;  // per stream, same order
  std::vector<uint64_t> ignored_bytes;
  std::vector<std::string> warnings;
  // From a DISK_FULL.<ns> file the spool writer left (a crash or a stop while the disk refused
  // its writes): the arrival of the first record never written; 0 = none.
  int64_t disk_refused_from_ns = 0;
};

// Pass 1: the session log, then every media record of the call through one TimelineBuilder per
// stream (bounded memory: no packet is kept).
Result<SpoolData> ReadSpool(Fs& fs, const std::string& dir, const TimelineOptions& topt) {
  SpoolData d;
  Result<std::string> text = fs.ReadFile(dir + "/" + std::string(media::spool::kSessionLogName));
  if (!text.ok() && text.status().code() != StatusCode::kNotFound)
    return text.status().Annotate("reading the session log");
  if (!text.ok()) d.warnings.push_back("no session log");
  d.log = ParseSessionLog(text.ok() ? *text : "");
  if (d.log.torn_tail) d.warnings.push_back("session log: torn last line ignored");
  if (d.log.bad_lines > 0)
    d.warnings.push_back("session log: " + std::to_string(d.log.bad_lines) + " bad lines skipped");
  if (!d.log.start) d.warnings.push_back("session log: no start line");
  if (Result<std::vector<std::string>> names = fs.ListDir(dir); names.ok()) {
    const std::string_view prefix = media::spool::kDiskFullMarkerPrefix;
    for (const std::string& name : *names) {
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      const int64_t ns = std::strtoll(name.c_str() + prefix.size(), nullptr, 10);
      if (ns > 0 && (d.disk_refused_from_ns == 0 || ns < d.disk_refused_from_ns))
        d.disk_refused_from_ns = ns;
    }
  }
  CV_ASSIGN_OR_RETURN(media::CallSpoolReader reader, media::CallSpoolReader::Open(fs, dir));
  // Streams: the log's, then any the spool names without a `stream` line (their audio is kept,
  // with the static payload types). A deque: the builders keep references to the infos.
  std::deque<StreamInfo> infos(d.log.streams.begin(), d.log.streams.end());
  std::map<std::string, size_t, std::less<>> by_id;
  std::vector<std::unique_ptr<TimelineBuilder>> builders;
  auto stream = [&](std::string_view id) -> TimelineBuilder& {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      size_t i = 0;
      while (i < infos.size() && infos[i].id != id) ++i;
      if (i == infos.size()) {
        infos.push_back(StreamInfo{.id = std::string(id), .index = static_cast<int>(i)});
        d.warnings.push_back("stream " + std::string(id) +
                             ": no stream line; static payload types assumed");
      }
      it = by_id.emplace(std::string(id), i).first;
    }
    if (builders.size() <= it->second) builders.resize(it->second + 1);
    if (builders[it->second] == nullptr)
      builders[it->second] = std::make_unique<TimelineBuilder>(infos[it->second], topt);
    return *builders[it->second];
  };
  for (const std::string& id : reader.stream_ids()) stream(id);  // version 1 files
  media::CallRecord rec;
  while (reader.Next(&rec)) stream(rec.stream_id).Push(rec.record);
  CV_RETURN_IF_ERROR(reader.read_error().Annotate("reading the spool"));
  std::vector<uint64_t> ignored(infos.size(), 0);
  for (const media::SpoolFileReport& f : reader.files()) {
    if (f.tail.ok()) continue;
    const std::string what =
        f.version == 0 ? f.tail.ToString()
                       : std::to_string(f.ignored_bytes) + " bytes of torn or corrupt tail ignored";
    if (f.stream_id.empty()) {  // version 2: the call's file
      d.warnings.push_back(f.name + ": " + what);
      continue;
    }
    // Version 1: the stream's own file.
    ignored[by_id.at(f.stream_id)] = f.ignored_bytes;
    if (f.version == 0 && f.bytes < media::spool::kFileHeaderSize) continue;  // torn at birth
    d.warnings.push_back("stream " + f.stream_id + ": " + what);
  }
  std::vector<size_t> order(infos.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return infos[a].index < infos[b].index; });
  for (size_t i : order) {
    d.streams.push_back(infos[i]);
    d.ignored_bytes.push_back(ignored[i]);
    d.built.push_back(i < builders.size() && builders[i] != nullptr ? builders[i]->Finish()
                                                                    : BuiltTimeline{});
  }
  return d;
}

// Pass 2 (and the measuring pass for WAV): the call's records again, through a StreamRenderer.
struct Rendered {
  int sample_rate = 8000;
  int64_t origin_ns = 0;
  int64_t frames = 0;
  std::vector<std::string> warnings;
};

Result<Rendered> RenderPass(Fs& fs, const std::string& dir, const SpoolData& d,
                            const std::vector<StreamRenderInput>& inputs, int64_t origin_hint,
                            const DecoderFactory& factory, FrameSink* sink) {
  StreamRenderer r(inputs, origin_hint, factory, sink);
  CV_ASSIGN_OR_RETURN(media::CallSpoolReader reader, media::CallSpoolReader::Open(fs, dir));
  std::map<std::string, size_t, std::less<>> by_id;
  for (size_t i = 0; i < d.streams.size(); ++i) by_id.emplace(d.streams[i].id, i);
  media::CallRecord rec;
  while (reader.Next(&rec)) {
    auto it = by_id.find(rec.stream_id);
    if (it != by_id.end()) CV_RETURN_IF_ERROR(r.Push(it->second, rec.record));
  }
  CV_RETURN_IF_ERROR(reader.read_error().Annotate("reading the spool"));
  CV_RETURN_IF_ERROR(r.Finish());
  return Rendered{r.sample_rate(), r.origin_ns(), r.frames(), r.warnings()};
}

std::vector<int> AssignChannels(const SpoolData& d, const FinalizeRequest& req,
                                std::vector<std::string>* warnings) {
  std::vector<int> channels(d.streams.size(), 0);
  if (d.streams.size() == 1) channels[0] = -1;
  for (size_t i = 0; i < d.streams.size(); ++i) {
    const auto& given =
        req.stream_channels.empty() ? d.log.end_stream_channels : req.stream_channels;
    if (auto it = given.find(d.streams[i].id); it != given.end()) {
      channels[i] = std::clamp(it->second, -1, 1);
    } else if (d.streams.size() > 1) {
      channels[i] = static_cast<int>(i % 2);
      if (i >= 2)
        warnings->push_back("stream " + d.streams[i].id +
                            ": more than two streams; mixed into channel " + std::to_string(i % 2));
    }
  }
  return channels;
}

Result<FinalizeResult> ExistingResult(Fs& fs, const std::string& recordings_dir,
                                      const std::string& rel) {
  FinalizeResult r;
  r.audio_path = recordings_dir + "/" + rel;
  r.manifest_path = r.audio_path + ".json";
  CV_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(r.manifest_path));
  r.manifest = nlohmann::json::parse(text, nullptr, false);
  if (!r.manifest.is_object()) return DataLossError("reading " + r.manifest_path + ": not JSON");
  r.duration_ms = r.manifest.value(nlohmann::json::json_pointer("/audio/duration_ms"), int64_t{0});
  r.already_finalized = true;
  return r;
}

// Step 4: the hand-off to every configured queue (docs/formats/outbox.md).
Status HandOff(const FinalizeOptions& opt, const std::string& call_id, const std::string& rel,
               const nlohmann::json& manifest) {
  if (!opt.outbox || opt.outbox_queues.empty()) return Status::Ok();
  const outbox::Entry entry{
      .call_id = call_id,
      .manifest = rel + ".json",
      .state = manifest.value("state", ""),
      .finalized = manifest.value(nlohmann::json::json_pointer("/times/finalized"), "")};
  for (const std::string& queue : opt.outbox_queues)
    CV_RETURN_IF_ERROR(opt.outbox->Put(queue, entry));
  return Status::Ok();
}

// Step 5 and 6: DONE, then the spool goes. A failed removal is only logged (DONE is durable).
Status Retire(Fs& fs, const std::string& spool_dir, const std::string& call_id,
              const FinalizeResult& r, const std::string& rel) {
  const nlohmann::json done = {{"call_id", call_id}, {"audio", rel}, {"manifest", rel + ".json"}};
  CV_RETURN_IF_ERROR(WriteFileDurably(fs, spool_dir + "/" + std::string(media::spool::kDoneName),
                                      done.dump() + "\n"));
  Status s = fs.RemoveAll(spool_dir);
  if (s.ok()) s = fs.SyncDir(DirName(spool_dir));
  if (!s.ok())
    CV_LOG_WARN("recording.spool_remove_failed", "call={} error=\"{}\"", call_id, s.ToString());
  (void)r;
  return Status::Ok();
}

// Step 1's precondition: room for the audio (and its manifest) on the recordings' filesystem, so
// a full disk never leaves half-written audio (issue 21). An estimate from pass 1: the call's span
// times the format's byte rate (WAV PCM16 stereo at 16 kHz when a stream's codec runs above 8
// kHz), plus a margin; ResourceExhausted (retried by the queue) when it does not fit.
Status CheckRoom(Fs& fs, const FinalizeOptions& opt, const SpoolData& d) {
  int64_t first = 0, last = 0;
  bool wide = false;
  for (const BuiltTimeline& b : d.built) {
    if (b.timeline.first_arrival_ns > 0 && (first == 0 || b.timeline.first_arrival_ns < first))
      first = b.timeline.first_arrival_ns;
    last = std::max(last, b.timeline.last_arrival_ns);
  }
  for (const StreamInfo& s : d.streams)
    for (const auto& [pt, spec] : s.payload_types) wide = wide || spec.clock_rate > 8000;
  const int64_t answered = d.log.first_answer_ns > 0 ? d.log.first_answer_ns : d.log.start_ns;
  if (answered > 0 && (first == 0 || answered < first)) first = answered;
  if (d.log.end_ns > last) last = d.log.end_ns;
  const double seconds = first > 0 && last > first ? (last - first) / 1e9 + 1 : 1;
  const double rate = opt.format == AudioFormat::kWav ? (wide ? 64000 : 32000) : 4000;
  const uint64_t need = static_cast<uint64_t>(seconds * rate) + (256 << 10);
  std::string probe = opt.recordings_dir;
  while (!fs.Exists(probe) && probe.size() > 1 && probe.find('/') != std::string::npos)
    probe = DirName(probe);
  Result<uint64_t> free = fs.FreeBytes(probe);
  if (!free.ok()) return Status::Ok();  // cannot tell: the write itself will say
  if (*free < need)
    return ResourceExhaustedError("no room for the recording: ~" + std::to_string(need >> 10) +
                                  " KiB needed, " + std::to_string(*free >> 10) + " KiB free on " +
                                  probe + " (retried)");
  return Status::Ok();
}

// One warning per stream that lost records to the disk, naming where in the audio.
void UnwrittenWarnings(const SpoolData& d, int64_t origin_ns, std::vector<std::string>* out) {
  for (size_t i = 0; i < d.streams.size(); ++i) {
    const StreamStats& st = d.built[i].timeline.stats;
    if (st.unwritten == 0) continue;
    std::string where;
    for (const UnwrittenSpan& u : st.unwritten_spans) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%s%.1f-%.1f s (%s)", where.empty() ? "" : ", ",
                    (u.first_ns - origin_ns) / 1e9, (u.last_ns - origin_ns) / 1e9,
                    u.reason.c_str());
      where += buf;
      if (where.size() > 300) {
        where += ", ...";
        break;
      }
    }
    out->push_back("stream " + d.streams[i].id + ": " + std::to_string(st.unwritten) +
                   " packets received but not written to the spool (missing from the audio) at " +
                   where);
  }
}

}  // namespace

Result<FinalizeResult> Finalize(Fs& fs, const Clock& clock, const FinalizeOptions& opt,
                                const FinalizeRequest& request) {
  if (opt.recordings_dir.empty()) return InvalidArgumentError("finalize: recordings_dir is empty");
  CV_RETURN_IF_ERROR(ValidateNameTemplate(opt.name_template));
  const std::string call_id = BaseName(request.spool_dir);
  const std::string& spool = request.spool_dir;
  InFlight in_flight(call_id);
  if (!in_flight.ok()) return AbortedError("finalize: call " + call_id + " is being finalized");
  if (!fs.Exists(spool)) return NotFoundError("finalize: no spool directory " + spool);

  // Finished before (crash after DONE): return what is there and finish the removal.
  if (fs.Exists(spool + "/" + std::string(media::spool::kDoneName))) {
    CV_ASSIGN_OR_RETURN(std::string text,
                        fs.ReadFile(spool + "/" + std::string(media::spool::kDoneName)));
    const nlohmann::json done = nlohmann::json::parse(text, nullptr, false);
    if (!done.is_object() || !done.contains("audio") || !done["audio"].is_string())
      return DataLossError("finalize: unreadable " + spool + "/DONE");
    const std::string rel = done["audio"].get<std::string>();
    CV_ASSIGN_OR_RETURN(FinalizeResult r, ExistingResult(fs, opt.recordings_dir, rel));
    CV_RETURN_IF_ERROR(Retire(fs, spool, call_id, r, rel));
    return r;
  }

  CV_ASSIGN_OR_RETURN(SpoolData d, ReadSpool(fs, spool, opt.timeline));
  const nlohmann::json start = d.log.start.value_or(nlohmann::json::object());
  // The tenant siprec/ decided before the 200 OK is in the `start` line (also after a crash).
  FinalizeRequest req = request;
  if (req.tenant.empty() && start.contains("tenant") && start["tenant"].is_string()) {
    req.tenant = start["tenant"].get<std::string>();
  }

  // Encryption: the tenant's key, asked for once (before a new name is claimed: it decides the
  // name's suffix). Failing here leaves the spool as it is for the retry.
  std::optional<crypto::TenantKey> key;
  bool key_asked = false;
  auto ask_key = [&]() -> Status {
    if (key_asked || !opt.audio_key) return Status::Ok();
    key_asked = true;
    Result<std::optional<crypto::TenantKey>> k = opt.audio_key(req.tenant);
    // Always retried (the queue skips NotFound/Aborted): never plaintext for such a call.
    if (!k.ok()) return UnavailableError("encryption key: " + k.status().ToString());
    key = std::move(k).value();
    return Status::Ok();
  };

  // Room for the output before a name is claimed or a byte of audio is written.
  CV_RETURN_IF_ERROR(CheckRoom(fs, opt, d));

  // Step 1: the name, reused from an earlier attempt's CLAIM when there is one.
  Claim claim;
  const std::string claim_path = spool + "/" + kClaimFile;
  if (Result<std::string> c = fs.ReadFile(claim_path); c.ok() && !c->empty()) {
    claim.relative = std::string(c->substr(0, c->find('\n')));
    claim.existing =
        ManifestIsFor(fs, opt.recordings_dir + "/" + claim.relative + ".json", call_id);
    CV_RETURN_IF_ERROR(CreateDirsDurably(fs, opt.recordings_dir, DirName(claim.relative)));
  } else {
    NameFields f;
    f.start_ns = d.log.start_ns;
    if (f.start_ns == 0) {  // no start line: the call id's own time, else now
      Result<std::chrono::system_clock::time_point> t = UuidV7Time(call_id);
      const auto tp = t.ok() ? *t : clock.WallNow();
      f.start_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
    }
    f.call_id = call_id;
    f.caller = !req.caller.empty() ? req.caller : UserOfUri(start.value("from", ""));
    f.callee = !req.callee.empty() ? req.callee : UserOfUri(start.value("to", ""));
    f.tenant = req.tenant;
    f.node = !opt.node_id.empty() ? opt.node_id : start.value("node_id", "");
    CV_ASSIGN_OR_RETURN(std::string base, ExpandNameTemplate(opt.name_template, f));
    CV_RETURN_IF_ERROR(ask_key());
    std::string extension(AudioFileExtension(opt.format));
    if (key) extension += kEncryptedFileSuffix;
    CV_ASSIGN_OR_RETURN(claim, ClaimName(fs, opt.recordings_dir, base, extension, call_id));
    if (!claim.existing)
      CV_RETURN_IF_ERROR(WriteFileDurably(fs, claim_path, claim.relative + "\n"));
  }
  if (claim.existing) {
    CV_ASSIGN_OR_RETURN(FinalizeResult r, ExistingResult(fs, opt.recordings_dir, claim.relative));
    CV_RETURN_IF_ERROR(HandOff(opt, call_id, claim.relative, r.manifest));
    CV_RETURN_IF_ERROR(Retire(fs, spool, call_id, r, claim.relative));
    return r;
  }

  CV_RETURN_IF_ERROR(ask_key());

  // Step 2: render and write the audio.
  std::vector<std::string> warnings = d.log.end_warnings;
  warnings.insert(warnings.end(), req.warnings.begin(), req.warnings.end());
  warnings.insert(warnings.end(), d.warnings.begin(), d.warnings.end());
  const std::vector<int> channels = AssignChannels(d, req, &warnings);
  std::vector<StreamRenderInput> inputs;
  for (size_t i = 0; i < d.streams.size(); ++i) {
    StreamRenderInput in{.info = &d.streams[i], .built = &d.built[i], .channel = channels[i]};
    for (const PausedInterval& p : d.log.paused)
      if (p.Applies(d.streams[i].id))
        in.muted.emplace_back(p.start_ns, p.until_end ? INT64_MAX : p.end_ns);
    inputs.push_back(std::move(in));
  }
  const DecoderFactory factory =
      opt.decoder_factory ? opt.decoder_factory : DecoderFactory(codec::NewDecoder);
  const int64_t answered = d.log.first_answer_ns > 0 ? d.log.first_answer_ns : d.log.start_ns;
  // WAV announces its length in the header: a measuring pass first. Ogg/Opus streams as it goes.
  Rendered audio;
  if (opt.format == AudioFormat::kWav) {
    CV_ASSIGN_OR_RETURN(audio, RenderPass(fs, spool, d, inputs, answered, factory, nullptr));
  } else {
    StreamRenderer probe(inputs, answered, factory, nullptr);
    audio.sample_rate = probe.sample_rate();
  }
  const std::string audio_path = opt.recordings_dir + "/" + claim.relative;
  const int64_t announced = audio.frames;
  CV_ASSIGN_OR_RETURN(const WrittenAudio written,
                      WriteAudioStream(
                          fs, audio_path, opt.format, audio.sample_rate, announced,
                          [&](FrameSink* sink) -> Status {
                            CV_ASSIGN_OR_RETURN(
                                audio, RenderPass(fs, spool, d, inputs, answered, factory, sink));
                            return Status::Ok();
                          },
                          key ? &*key : nullptr));
  warnings.insert(warnings.end(), audio.warnings.begin(), audio.warnings.end());
  UnwrittenWarnings(d, audio.origin_ns, &warnings);
  if (d.disk_refused_from_ns > 0) {
    char at[32];
    std::snprintf(at, sizeof(at), "%.1f", (d.disk_refused_from_ns - audio.origin_ns) / 1e9);
    warnings.push_back(std::string("spool: the disk refused this call's writes from ") + at +
                       " s into the audio (" + FormatRfc3339Ms(NsToMs(d.disk_refused_from_ns)) +
                       ") and the process ended before they were written: what arrived after "
                       "that is not in the recording");
  }

  // Step 3: the manifest.
  ManifestInputs mi;
  mi.call_id = call_id;
  mi.node_id = opt.node_id;
  mi.tenant = req.tenant;
  mi.siprec_session_id = req.siprec_session_id;
  mi.state = req.state.value_or(DeriveState(d.log));
  mi.end_reason = !req.end_reason.empty() ? req.end_reason
                  : d.log.has_end         ? d.log.end_reason
                                          : "crash";
  mi.log = &d.log;
  int64_t last_media = 0;
  for (const BuiltTimeline& b : d.built)
    last_media = std::max(last_media, b.timeline.last_arrival_ns);
  mi.ended_ns = d.log.has_end ? d.log.end_ns : std::max(last_media, d.log.last_event_ns);
  mi.audio = ManifestAudio{.file = claim.relative,
                           .format = std::string(AudioFormatName(opt.format)),
                           .encoding = std::string(AudioEncodingName(opt.format)),
                           .sample_rate = audio.sample_rate,
                           .channels = 2,
                           .origin_ns = audio.origin_ns,
                           .duration_ms = audio.frames * 1000 / audio.sample_rate,
                           .bytes = written.bytes,
                           .sha256 = written.sha256};
  if (written.encrypted) {
    mi.audio.encryption = ManifestEncryption{.tenant = key->tenant,
                                             .key_id = written.key_id,
                                             .plaintext_bytes = written.plaintext_bytes};
  }
  for (size_t i = 0; i < d.streams.size(); ++i)
    mi.streams.push_back(ManifestStream{.info = &d.streams[i],
                                        .timeline = &d.built[i].timeline,
                                        .channel = channels[i],
                                        .in_file = !d.built[i].timeline.sources.empty(),
                                        .ignored_bytes = d.ignored_bytes[i]});
  mi.participants = req.participants ? req.participants : d.log.end_participants;
  mi.metadata_snapshots = req.metadata_snapshots ? req.metadata_snapshots : d.log.end_metadata;
  if (mi.state == CallState::kPartial && !d.log.has_end) {
    // Say where the crash cut it and what that means (issue 21: loss is visible).
    warnings.push_back("recording cut short by a crash: it ends at the last packet on disk (" +
                       FormatRfc3339Ms(NsToMs(mi.ended_ns)) +
                       "); what the node still held in memory then (normally under "
                       "media.spool_flush_ms, longer while the disk was refusing writes) is not "
                       "in it");
  }
  mi.warnings = warnings;
  mi.finalized_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock.WallNow().time_since_epoch())
          .count();
  FinalizeResult r;
  r.audio_path = audio_path;
  r.manifest_path = audio_path + ".json";
  r.manifest = BuildManifest(mi);
  r.duration_ms = mi.audio.duration_ms;
  CV_RETURN_IF_ERROR(WriteFileDurably(fs, r.manifest_path, r.manifest.dump(2) + "\n"));
  // Steps 4–6.
  CV_RETURN_IF_ERROR(HandOff(opt, call_id, claim.relative, r.manifest));
  CV_RETURN_IF_ERROR(Retire(fs, spool, call_id, r, claim.relative));
  // No file name here: a template with {caller}/{callee} puts phone numbers in it.
  CV_LOG_INFO("recording.finalized",
              "call={} state={} duration_ms={} bytes={} encrypted={} warnings={}", call_id,
              CallStateName(mi.state), r.duration_ms, written.bytes, written.encrypted,
              warnings.size());
  return r;
}

Result<FinalizeResult> FinalizeCall(Fs& fs, const Clock& clock, const FinalizeOptions& opt,
                                    const FinalizeRequest& req) {
  Result<FinalizeResult> r = Finalize(fs, clock, opt, req);
  if (r.ok()) return r;
  const Status s = r.status().Annotate("finalizing call " + BaseName(req.spool_dir));
  CV_LOG_ERROR("recording.finalize_failed", "call={} error=\"{}\"", BaseName(req.spool_dir),
               s.ToString());
  return s;
}

Result<SpoolDirs> ListSpools(Fs& fs, const std::string& spool_root) {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(spool_root));
  SpoolDirs out;
  for (const std::string& name : names) {
    const std::string dir = spool_root + "/" + name;
    if (!fs.ListDir(dir).ok()) continue;  // not a directory
    (fs.Exists(dir + "/" + std::string(media::spool::kDoneName)) ? out.finished : out.unfinished)
        .push_back(dir);
  }
  return out;
}

Result<std::vector<std::string>> ListUnfinishedSpools(Fs& fs, const std::string& spool_root) {
  CV_ASSIGN_OR_RETURN(SpoolDirs dirs, ListSpools(fs, spool_root));
  return std::move(dirs.unfinished);
}

}  // namespace callvault::recording
