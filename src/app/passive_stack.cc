// [passive] wiring: capture → dispatcher → passive recorder → LocalBackend + media engine
// (app/passive_stack.h).
#include "app/passive_stack.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <functional>
#include <string>

#include "app/passive_engine_sink.h"
#include "base/log.h"
#include "base/time_format.h"
#include "capture/dispatcher.h"
#include "capture/packet_source.h"
#include "codec/codec.h"
#include "passive/passive_recorder.h"
#include "sip/transport.h"

namespace callvault::app {
namespace {

// The node's backend, with what passive recording changes: the call says it was captured (and
// from which primary), its events are stamped with the capture time of what caused them (the
// wire's time, not the worker's processing lag: the spare's durations match the primary's),
// its streams have no sockets (their RTP is injected), and the port the session's own SDP
// answer would name is a placeholder nobody sends to.
class PassiveBackend final : public siprec::RecordingBackend {
 public:
  PassiveBackend(siprec::RecordingBackend* inner, std::string primary_node_id)
      : inner_(inner), primary_node_id_(std::move(primary_node_id)) {}

  // The capture time (ns) of what the follower processes now; set before the capture starts.
  void SetCaptureTime(std::function<int64_t()> capture_ns) { capture_ns_ = std::move(capture_ns); }

  Status BeginCall(const siprec::CallStart& start) override {
    siprec::CallStart s = start;
    s.capture = "passive";
    s.primary_node_id = primary_node_id_;
    s.at_ms = CaptureMs();
    return inner_->BeginCall(s);
  }
  Status LogEvent(const std::string& call_id, nlohmann::json event) override {
    if (const int64_t ms = CaptureMs(); ms > 0 && event.is_object() && !event.contains("at"))
      event["at"] = FormatRfc3339Ms(ms);
    return inner_->LogEvent(call_id, std::move(event));
  }
  Status SyncCall(const std::string& call_id) override { return inner_->SyncCall(call_id); }
  void SyncCallAsync(const std::string& call_id, std::function<void(Status)> done) override {
    inner_->SyncCallAsync(call_id, std::move(done));
  }
  void AbortCall(const std::string& call_id) override { inner_->AbortCall(call_id); }
  Result<uint16_t> OpenStream(const siprec::StreamOpen& stream) override {
    siprec::StreamOpen s = stream;
    s.passive = true;
    CV_RETURN_IF_ERROR(inner_->OpenStream(s).status());
    return uint16_t{9};  // the discard port: the session's answer is never sent
  }
  Status SetPaused(const std::string& call_id, const std::string& stream_id,
                   bool paused) override {
    return inner_->SetPaused(call_id, stream_id, paused);
  }
  Status UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                    const std::string& suite, const std::string& key_base64) override {
    return inner_->UpdateSrtp(call_id, stream_id, suite, key_base64);
  }
  Status EndCall(const siprec::CallEnd& end) override {
    siprec::CallEnd e = end;
    e.at_ms = CaptureMs();
    return inner_->EndCall(e);
  }
  size_t FreeStreams() const override { return SIZE_MAX; }  // passive streams need no port
  std::string MediaAddressV4() const override {
    const std::string a = inner_->MediaAddressV4();
    return a.empty() && inner_->MediaAddressV6().empty() ? "127.0.0.1" : a;
  }
  std::string MediaAddressV6() const override { return inner_->MediaAddressV6(); }

 private:
  int64_t CaptureMs() const { return capture_ns_ ? capture_ns_() / 1'000'000 : 0; }

  siprec::RecordingBackend* const inner_;
  const std::string primary_node_id_;
  std::function<int64_t()> capture_ns_;
};

capture::Endpoint ToEndpoint(const sip::SocketAddress& a) {
  sockaddr_storage ss{};
  std::memcpy(&ss, a.sockaddr(), a.len());
  capture::Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
    e.ip = capture::IpAddress::V4(reinterpret_cast<const uint8_t*>(&v4->sin_addr));
    e.port = ntohs(v4->sin_port);
  } else {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    e.ip = capture::IpAddress::V6(reinterpret_cast<const uint8_t*>(&v6->sin6_addr));
    e.port = ntohs(v6->sin6_port);
  }
  return e;
}

}  // namespace

struct PassiveStack::Impl {
  Config config;
  media::MediaEngine* media;
  PassiveBackend backend;
  PassiveEngineSink sink;
  std::unique_ptr<capture::PacketSource> source;
  std::unique_ptr<passive::PassiveRecorder> recorder;
  std::unique_ptr<capture::Dispatcher> dispatcher;
  bool started = false;

  Impl(const Config& c, media::MediaEngine* m, siprec::RecordingBackend* inner)
      : config(c), media(m), backend(inner, c.passive.primary_node_id), sink(m) {}
};

PassiveStack::PassiveStack(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PassiveStack::~PassiveStack() { Stop(); }

Result<std::unique_ptr<PassiveStack>> PassiveStack::Create(const Config& config,
                                                            media::MediaEngine* media,
                                                            siprec::RecordingBackend* backend,
                                                            const Clock* clock,
                                                            Registry* metrics) {
  if (!config.passive.enabled) return std::unique_ptr<PassiveStack>();
  auto impl = std::make_unique<Impl>(config, media, backend);
  passive::FollowerOptions fo;
  fo.recorder.can_decode = codec::CanDecode;
  fo.recorder.workers = 1;
  fo.rtp_timeout = std::chrono::seconds(config.passive.rtp_timeout_s);
  for (const std::string& p : config.passive.primary) {
    auto a = sip::SocketAddress::Parse(p);
    if (!a.ok()) return InvalidArgumentError("passive.primary: " + std::string(a.status().message()));
    fo.primary.push_back(ToEndpoint(*a));
  }
  Impl* raw = impl.get();
  impl->recorder = std::make_unique<passive::PassiveRecorder>(
      std::move(fo), &impl->backend, clock, &impl->sink, [raw]() -> uint64_t {
        return raw->source ? raw->source->Stats().dropped : 0;
      });
  impl->backend.SetCaptureTime([raw] { return raw->recorder->capture_ns(); });
  capture::DispatcherOptions dopt;
  dopt.sip_ports.clear();
  for (const std::string& p : config.passive.sip_ports) {
    int n = 0;
    std::from_chars(p.data(), p.data() + p.size(), n);
    if (n > 0 && n < 65536) dopt.sip_ports.push_back(static_cast<uint16_t>(n));
  }
  impl->dispatcher = std::make_unique<capture::Dispatcher>(dopt, impl->recorder.get());

  auto counter = [metrics](std::string_view name, std::string_view help,
                           std::function<double()> f) {
    if (Status s = metrics->AddCallbackCounter(name, help, std::move(f)); !s.ok())
      CV_LOG_WARN("server.metric_failed", "metric={} error=\"{}\"", name, s.message());
  };
  counter("callvault_passive_capture_packets_total",
          "Packets the passive capture received from the kernel (pcap_stats ps_recv).",
          [raw] { return raw->source ? double(raw->source->Stats().received) : 0.0; });
  counter("callvault_passive_capture_dropped_total",
          "Packets the kernel dropped because the passive capture fell behind (pcap_stats "
          "ps_drop): each is also a warning in the calls recording at the time.",
          [raw] { return raw->source ? double(raw->source->Stats().dropped) : 0.0; });
  counter("callvault_passive_capture_if_dropped_total",
          "Packets the interface or driver dropped (pcap_stats ps_ifdrop).",
          [raw] { return raw->source ? double(raw->source->Stats().if_dropped) : 0.0; });
  counter("callvault_passive_media_routed_total",
          "Captured RTP/RTCP datagrams routed to a followed stream.",
          [raw] { return double(raw->recorder->router().counters().routed.load()); });
  counter("callvault_passive_media_unrouted_total",
          "Captured UDP datagrams to an endpoint no followed stream was bound to within 2 s "
          "(not media of a followed call).",
          [raw] { return double(raw->recorder->router().counters().unrouted.load()); });
  counter("callvault_passive_sip_dropped_total",
          "Captured SIP messages dropped because the passive worker fell behind.",
          [raw] { return double(raw->recorder->sip_dropped()); });
  counter("callvault_passive_inject_dropped_total",
          "Captured datagrams for a passive stream that had closed, or beyond the media "
          "threads' queue.",
          [raw] { return double(raw->media->inject_dropped()); });
  if (Status s = metrics->AddCallbackGauge(
          "callvault_passive_sessions", "Sessions the passive recorder follows now.",
          [raw] { return double(raw->recorder->sessions()); });
      !s.ok())
    CV_LOG_WARN("server.metric_failed", "metric=callvault_passive_sessions error=\"{}\"",
                s.message());
  return std::unique_ptr<PassiveStack>(new PassiveStack(std::move(impl)));
}

Status PassiveStack::Start() {
  capture::PacketSourceOptions o;
  o.device = impl_->config.passive.interface;
  o.filter = impl_->config.passive.filter;
  o.buffer_bytes = size_t(impl_->config.passive.buffer_mb) << 20;
  // TPACKET_V3 (blocks, delivered when full or after 10 ms), not immediate mode: immediate
  // mode gives every packet a slot of the largest frame the interface may pass up, 64 KiB on
  // an interface with receive offloads (GRO/LRO, the default on most NICs, and lo), so 64 MiB
  // would hold about 1,000 packets; blocks pack them. 10 ms is nothing to a call's timing
  // (packets keep their kernel timestamps).
  o.immediate = false;
  o.timeout_ms = 10;
  auto source = capture::PacketSource::Open(o);
  if (!source.ok())
    return Status(source.status().code(), "passive: " + std::string(source.status().message()));
  impl_->source = std::move(*source);
  impl_->recorder->Start();
  capture::Dispatcher* dispatcher = impl_->dispatcher.get();
  impl_->source->Start([dispatcher](const capture::CapturedFrame& f) {
    dispatcher->OnFrame(f.link_type, f.ts_ns, f.bytes);
  });
  impl_->started = true;
  CV_LOG_INFO("passive.started", "interface={} filter=\"{}\" sip_ports={} primary={} ring_mb={}",
              o.device, o.filter, impl_->config.passive.sip_ports.size(),
              impl_->config.passive.primary.size(), impl_->config.passive.buffer_mb);
  return Status::Ok();
}

void PassiveStack::Stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  impl_->source->Stop();    // no more frames
  impl_->recorder->Stop();  // ends what still records
  const capture::CaptureStats st = impl_->source->Stats();
  CV_LOG_INFO("passive.stopped", "frames={} received={} dropped={} if_dropped={}", st.frames,
              st.received, st.dropped, st.if_dropped);
}

size_t PassiveStack::sessions() const { return impl_ ? impl_->recorder->sessions() : 0; }

}  // namespace callvault::app
