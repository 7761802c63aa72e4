// PassiveStack: `[passive]` wiring — the libpcap capture (capture::PacketSource on its
// cv-capture thread) → capture::Dispatcher → passive::PassiveRecorder, whose sessions are
// written through the node's LocalBackend (capture "passive" in the start line, passive media
// streams fed by MediaEngine::Inject), then finalized, ingested and replicated like any call.
//
// Start fails with the capture's error when the interface cannot be opened: without root or
// CAP_NET_RAW, "passive: capture on <interface> needs root or CAP_NET_RAW: …".
//
// Called by: app/server.cc (Create, Start after the recorder, Stop before the media engine).
// Thread-safety: Create/Start/Stop from the main thread; the metrics callbacks from any.
#pragma once

#include <memory>

#include "app/config.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "media/media_engine.h"
#include "siprec/recording_backend.h"

namespace callvault::app {

class PassiveStack {
 public:
  // nullptr when `[passive] enabled` is false. REQUIRES: everything outlives the stack.
  static Result<std::unique_ptr<PassiveStack>> Create(const Config& config,
                                                      media::MediaEngine* media,
                                                      siprec::RecordingBackend* backend,
                                                      const Clock* clock, Registry* metrics);
  ~PassiveStack();  // Stop()

  // Opens the capture and starts following. The start error names the cause.
  Status Start();
  // Stops the capture, then ends what is still recording (`shutdown`). Idempotent.
  void Stop();
  size_t sessions() const;

 private:
  struct Impl;
  explicit PassiveStack(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace callvault::app
