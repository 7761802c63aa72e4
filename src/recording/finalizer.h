// Finalizing a call: turns its spool directory (docs/formats/spool.md) into one stereo audio
// file and its manifest (docs/formats/manifest.md) under the recordings directory, then retires
// the spool directory. Runs on BYE, on timeout, and at start-up for every spool directory left
// by a crash (ListUnfinishedSpools).
//
// Durability and idempotence (DESIGN.md rules 2–4). The steps, each durable before the next:
//   1. claim a file name: a placeholder "callvault claim <call id>" at the audio path (fsync'd,
//      directory fsync'd), then `CLAIM` in the spool directory holding that path (a re-run
//      reuses it; a re-run that crashed before CLAIM recognises its placeholder);
//   2. audio: "<audio>.tmp" → fsync → rename → fsync dir; SHA-256 of its bytes (encrypted on
//      the way when the call's tenant must be: options.audio_key, audio_key.h);
//   3. manifest "<audio>.json" through WriteFileDurably;
//   4. one entry in each configured outbox queue (outbox/outbox.h, docs/formats/outbox.md),
//      durable before Put returns: the hand-off to catalog ingest (and later relocation,
//      replication);
//   5. `DONE` in the spool directory (WriteFileDurably), naming audio and manifest;
//   6. the spool directory is removed.
// Memory is bounded independently of the call's length (a 10-hour call peaks under 10 MiB): the
// spool is read in windows, several times — pass 1 (timeline_builder.h), for WAV a measuring
// pass, then the rendering pass (stream_renderer.h) that streams into step 2's file.
// A crash before 5 leaves the spool: the next run finalizes again (overwriting its own claimed
// file, writing the outbox entries again — consumers are idempotent); after 5 a re-run returns
// the existing result. A re-run also returns the existing
// result when the claimed (or template-named) manifest already holds this call id. Nothing is
// ever overwritten that another call claimed: names that exist get "_2", "_3", ….
//
// Called by: siprec/ (BYE, timeouts) and app/ (start-up recovery), on a worker thread.
// Thread-safety: FinalizeCall may run concurrently for different spool directories; a second
// concurrent call for the same call id returns Aborted. Names are reserved under a process-wide
// mutex, so concurrent finalizers never pick the same file.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/status.h"
#include "outbox/outbox.h"
#include "recording/audio_key.h"
#include "recording/audio_writer.h"
#include "recording/manifest.h"
#include "recording/renderer.h"
#include "recording/stream_timeline.h"

namespace callvault::recording {

struct FinalizeOptions {
  // Where recordings go; audio paths are relative to it. Required.
  std::string recordings_dir;
  // Name template, see name_template.h. Default: "{date}/{time}_{call_id}".
  std::string name_template = "{date}/{time}_{call_id}";
  // Audio file format. Default: WAV PCM16.
  AudioFormat format = AudioFormat::kWav;
  // This node's id (manifest `node_id`, `{node}`). Default: "" = the `start` line's node_id.
  std::string node_id;
  // Decoder construction; null = codec::NewDecoder (a seam for tests and benchmarks).
  DecoderFactory decoder_factory;
  // Timeline tuning (stream_timeline.h). Defaults are the documented method.
  TimelineOptions timeline;
  // The hand-off (step 4): every finished call gets an entry in each of these queues of
  // `outbox`. REQUIRES: the queues are open. Default: none.
  outbox::Outbox* outbox = nullptr;
  std::vector<std::string> outbox_queues;
  // Encryption at rest (audio_key.h), asked for the request's tenant before a new file name is
  // claimed. A key: the audio is written through crypto::EncryptingFile as
  // "<name>.<ext>.cvenc" (kEncryptedFileSuffix; a name claimed by an earlier attempt is kept),
  // the manifest is version 2 with `audio.encryption`, `audio.bytes`/`sha256` of the stored
  // bytes. An error: the finalize fails before any audio is written (the spool stays; the
  // queue retries) — a call that must be encrypted is never written in plaintext.
  // Default: null = never encrypt.
  AudioKeyFn audio_key;
};

struct FinalizeRequest {
  // The call's spool directory, data/spool/<call-id>; its name is the call id.
  std::string spool_dir;
  // nullopt: derived — no `end` line → partial; else the `end` line's `state`; else end reason
  // rtp_timeout, session_expired, ack_timeout or refresh_failed → timed_out; else completed.
  std::optional<CallState> state;
  // Manifest `end_reason`; "" = the `end` line's reason ("crash" when there is none).
  std::string end_reason;
  // Manifest `participants` (already parsed by siprec/); nullopt = the `end` line's, else [].
  std::optional<nlohmann::json> participants;
  // Manifest `metadata` (parsed snapshots); nullopt = the `end` line's, else the raw `metadata`
  // lines of the log.
  std::optional<nlohmann::json> metadata_snapshots;
  // Stream id → channel (0 left, 1 right, -1 both = mixed). Empty: the `end` line's
  // `stream_channels`; streams in neither are derived — one stream → both; else by m-line index
  // order: first → 0, second → 1, further → alternating (with a warning).
  std::map<std::string, int> stream_channels;
  // `{caller}`/`{callee}` for the name template; "" = user part of the start line's From/To.
  std::string caller, callee;
  std::string tenant;  // manifest `tenant`, `{tenant}`
  // Manifest `siprec_session_id`; "" = the `end` line's (siprec/ writes it there).
  std::string siprec_session_id;
  // Added to the manifest's `warnings` (after the `end` line's and before the finalizer's own).
  std::vector<std::string> warnings;
};

struct FinalizeResult {
  std::string audio_path;     // absolute (recordings_dir + relative name)
  std::string manifest_path;  // audio_path + ".json"
  nlohmann::json manifest;
  int64_t duration_ms = 0;
  bool already_finalized = false;  // an earlier run had finished it; nothing was written
};

// REQUIRES: options.recordings_dir is on one filesystem (renames stay inside it).
// Errors: NotFound (no spool dir and no finished recording known), Aborted (being finalized),
// InvalidArgument (bad options), Fs errors annotated with the step (the spool is kept).
Result<FinalizeResult> FinalizeCall(Fs& fs, const Clock& clock, const FinalizeOptions& options,
                                    const FinalizeRequest& request);

// Spool directories under `spool_root` without DONE, sorted (call ids are UUIDv7: oldest
// first). Directories with DONE were finalized; FinalizeCall on them only removes them.
Result<std::vector<std::string>> ListUnfinishedSpools(Fs& fs, const std::string& spool_root);

// Every spool directory under `spool_root`, sorted, split by DONE: `unfinished` as above;
// `finished` were finalized but not removed yet (a crash inside step 6): FinalizeCall on them
// only removes them. One scan for start-up recovery.
struct SpoolDirs {
  std::vector<std::string> unfinished, finished;
};
Result<SpoolDirs> ListSpools(Fs& fs, const std::string& spool_root);

}  // namespace callvault::recording
