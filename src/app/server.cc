#include "app/server.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "app/cluster_stack.h"
#include "app/data_dir.h"
#include "app/descriptor_budget.h"
#include "app/encryption.h"
#include "app/local_address.h"
#include "app/ops_metrics.h"
#include "app/recorder_availability.h"
#include "app/sd_notify.h"
#include "app/signals.h"
#include "app/passive_stack.h"
#include "app/storage_stack.h"
#include "app/tenant_assigner.h"
#include "app/version.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/thread_name.h"
#include "catalog/audit_head_logger.h"
#include "catalog/deferred_catalog.h"
#include "catalog/ingester.h"
#include "codec/codec.h"
#include "http/http_server.h"
#include "media/media_engine.h"
#include "outbox/outbox.h"
#include "recording/disk_headroom.h"
#include "recording/finalize_queue.h"
#include "recording/local_backend.h"
#include "replication/tls.h"
#include "siprec/recorder.h"
#include "storage/local_recording_store.h"

namespace callvault::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// How long BYEs sent at the end of a drain get to be answered before the stack stops.
constexpr seconds kByeGrace{2};
// How often the drain loop looks at the number of active calls.
constexpr milliseconds kDrainPoll{100};
// How often the recorder's readiness checks re-decide SIP admission (a failed check → 503
// within this), and the Retry-After of those 503s.
constexpr milliseconds kAvailabilityInterval{200};
constexpr int kUnavailableRetryAfterS = 10;

std::string Join(const std::vector<std::string>& v) {
  return v.empty() ? "none" : fmt::format("{}", fmt::join(v, ","));
}

// "line one; line two" (log lines are one line).
std::string OneLine(std::string_view s) {
  std::string out(s);
  for (size_t i = 0; (i = out.find('\n', i)) != std::string::npos;) out.replace(i, 1, "; ");
  return out;
}

std::string ListenersText(const sip::Stack& stack) {
  std::vector<std::string> out;
  for (const auto& [kind, addr] : stack.Listeners()) {
    std::string name(sip::TransportName(kind));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    out.push_back(name + ":" + addr.ToString());
  }
  return Join(out);
}

// Raises the soft RLIMIT_NOFILE to the hard limit (a two-stream call holds 4 descriptors with
// the defaults: docs/deployment.md §Sizing); returns the soft limit in force (0 = unknown).
size_t RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    CV_LOG_WARN("server.fd_limit", "error=\"getrlimit: {}\"", std::strerror(errno));
    return 0;
  }
  rlim_t was = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      CV_LOG_WARN("server.fd_limit", "nofile={} error=\"setrlimit to {}: {}\"", was, rl.rlim_max,
                  std::strerror(errno));
      return static_cast<size_t>(was);
    }
  }
  CV_LOG_INFO("server.fd_limit", "nofile={} was={} hard={}", rl.rlim_cur, was, rl.rlim_max);
  return rl.rlim_cur == RLIM_INFINITY ? size_t{1} << 30 : static_cast<size_t>(rl.rlim_cur);
}

// OK when a file can be created in `dir` (a probe file, removed again).
Status CheckWritable(Fs& fs, const std::string& dir) {
  const std::string probe = dir + "/.write-probe";
  Result<std::unique_ptr<AppendableFile>> file = fs.NewWritableFile(probe);
  Status s = file.ok() ? (*file)->Close() : file.status();
  if (file.ok()) fs.Remove(probe).IgnoreError();  // best effort: the next probe reuses the name
  return s.Annotate(fmt::format("{} is not writable", dir));
}

// mkdir -p (fails when it exists as something else), then writable.
Status CreateDataDir(Fs& fs, const std::string& dir) {
  CV_RETURN_IF_ERROR(fs.CreateDirs(dir).Annotate("creating the data directory"));
  return CheckWritable(fs, dir);
}

media::MediaOptions MediaOptionsFromConfig(const Config& c) {
  media::MediaOptions o;
  o.ipv4_address = c.media.ipv4_address;
  o.ipv6_address = c.media.ipv6_address;
  o.port_min = static_cast<uint16_t>(c.media.port_min);
  o.port_max = static_cast<uint16_t>(c.media.port_max);
  o.io_threads = c.media.io_threads;
  o.rtp_timeout = c.media.rtp_timeout;
  o.spool_flush = c.media.spool_flush;
  o.spool_sync = c.media.spool_sync;
  o.spool_batch_sync_min = static_cast<size_t>(c.media.spool_batch_sync_min);
  o.rtcp_sockets = c.media.rtcp_sockets;
  o.spool_memory_budget = size_t(c.media.spool_memory_budget_mb) << 20;
  return o;
}

recording::FinalizeOptions FinalizeOptionsFromConfig(const Config& c, outbox::Outbox* outbox,
                                                     recording::AudioKeyFn audio_key) {
  recording::FinalizeOptions o;
  o.audio_key = std::move(audio_key);  // encryption at rest (app/encryption.h)
  o.outbox = outbox;
  o.outbox_queues = DataDirOf(c).finished_call_queues();
  o.recordings_dir = DataDirOf(c).recordings();
  o.name_template = c.recording.name_template;
  o.format = c.recording.format == "opus" ? recording::AudioFormat::kOggOpus
                                          : recording::AudioFormat::kWav;
  o.node_id = c.node.id;
  return o;
}

catalog::IngesterOptions IngesterOptionsFromConfig(const Config& c) {
  catalog::IngesterOptions o;
  o.queue = kCatalogQueue;
  o.recordings_dir = DataDirOf(c).recordings();
  o.node_id = c.node.id;
  o.spool_dir = DataDirOf(c).spool();
  o.batch = c.catalog.ingest_batch;
  return o;
}

http::HttpOptions HttpOptionsFromConfig(const Config& c) {
  http::HttpOptions o;
  o.host = c.http.host;
  o.port = c.http.port;
  o.threads = c.http.threads;
  o.max_body_bytes = static_cast<size_t>(c.http.max_body_bytes);
  o.read_timeout_s = c.http.read_timeout_s;
  o.write_timeout_s = c.http.write_timeout_s;
  o.keep_alive_timeout_s = c.http.keep_alive_timeout_s;
  o.public_metrics = c.http.public_metrics;
  o.auth_cache_ttl_s = c.http.auth_cache_ttl_s;
  o.public_url = c.http.public_url;
  o.session_idle_timeout_s = c.http.session_idle_timeout_s;
  o.session_max_age_s = c.http.session_max_age_s;
  o.login_max_failures = c.http.login_max_failures;
  o.login_lock_s = c.http.login_lock_s;
  o.trusted_proxies = c.http.trusted_proxies;
  return o;
}

// The address SDP answers give for media: configured, else the bind address when specific,
// else the host's first non-loopback address (127.0.0.1 / none as the last resort).
std::string Advertised(const std::string& configured, const std::string& bind, bool ipv6) {
  if (!configured.empty()) return configured;
  if (!bind.empty() && bind != "0.0.0.0" && bind != "::") return bind;
  if (bind.empty()) return "";
  std::string found = DetectLocalAddress(ipv6);
  return found.empty() && !ipv6 ? "127.0.0.1" : found;
}

recording::LocalBackendOptions BackendOptionsFromConfig(const Config& c) {
  recording::LocalBackendOptions o;
  o.spool_root = DataDirOf(c).spool();
  o.node_id = c.node.id;
  o.advertise_ipv4 = Advertised(c.media.advertise_ipv4, c.media.ipv4_address, false);
  o.advertise_ipv6 = Advertised(c.media.advertise_ipv6, c.media.ipv6_address, true);
  // Session-log group commit: the same threshold as the spool sync thread's syncfs rounds.
  o.sync_batch_min = static_cast<size_t>(c.media.spool_batch_sync_min);
  return o;
}

siprec::RecorderOptions RecorderOptionsFromConfig(const Config& c, TenantAssigner* tenants,
                                                  DescriptorBudget* fds) {
  siprec::RecorderOptions o;
  o.assign_tenant = [tenants](const siprec::CallFacts& f) { return tenants->Assign(f); };
  o.admit_call = [fds] { return fds->Admit(); };
  o.workers = c.recorder.workers;
  o.accept_without_metadata = c.recorder.accept_without_metadata;
  o.min_free_streams = static_cast<size_t>(c.recorder.min_free_streams);
  o.can_decode = codec::CanDecode;
  return o;
}

// The node: SIP stack → recorder → media engine + spool → finalizer → outbox → catalog ingest
// (DESIGN.md data flow).
class Server {
 public:
  Server(const ServeArgs& args, ServeConfig config, SignalWaiter* signals)
      : args_(args),
        config_(std::move(config.config)),
        fs_(DefaultFs()),
        clock_(RealClock()),
        encryption_(config_),
        media_(
            MediaOptionsFromConfig(config_), fs_, clock_,
            [this](const std::string& call_id) { recorder_.OnRtpTimeout(call_id); }, &metrics_),
        outbox_(DataDirOf(config_).outbox(), fs_, &metrics_),
        finalizer_(
            fs_, clock_, FinalizeOptionsFromConfig(config_, &outbox_, encryption_.AudioKeys()),
            {.workers = config_.recording.finalize_workers,
             // A call's spool still partly in memory (full disk): wait for it.
             .spool_pending =
                 [this](const std::string& call_id) { return backend_.SpoolPending(call_id); }}),
        catalog_(CatalogOptionsFromConfig(config_), clock_),
        recordings_(fs_, DataDirOf(config_).recordings()),
        ingester_(IngesterOptionsFromConfig(config_), &outbox_, clock_, &catalog_, &metrics_),
        tenants_(&catalog_, &metrics_),
        backend_(BackendOptionsFromConfig(config_), fs_, clock_, &media_, &finalizer_, &ingester_),
        recorder_(RecorderOptionsFromConfig(config_, &tenants_, &fds_), &backend_, clock_,
                  [this](const sip::DialogId& d, int cause, std::string text) {
                    stack_.TerminateDialog(d, cause, std::move(text));
                  }),
        stack_(std::move(config.stack), &recorder_),
        signals_(signals) {}

  ~Server() {
    stop_watch_.store(true);
    if (recovery_watch_.joinable()) recovery_watch_.join();
  }

  int Run() {
    CV_LOG_INFO("server.starting", "version={} git={} config=\"{}\" node={} pid={}", kVersion,
                kGitDescribe, config_.source, config_.node.id, getpid());
    if (Status s = Start(); !s.ok()) {
      CV_LOG_ERROR("server.start_failed", "stage={} error=\"{}\"", failed_stage_, s.message());
      StopStarted();
      return 1;
    }
    CV_LOG_INFO("server.ready",
                "node={} data_dir=\"{}\" listeners={} workers={} rtp_ports={}-{} media_ipv4={} "
                "recordings=\"{}\" recovered={} codecs={}",
                config_.node.id, config_.node.data_dir, ListenersText(stack_),
                config_.sip.workers > 0 ? config_.sip.workers
                                        : int(std::max(1u, std::thread::hardware_concurrency())),
                config_.media.port_min, config_.media.port_max, backend_.MediaAddressV4(),
                DataDirOf(config_).recordings(), recovered_, Join(codec::DecodableCodecs()));
    // systemd (Type=notify): SIP and HTTP listen and recovery is done.
    Notify(fmt::format("READY=1\nSTATUS=recording; listeners {}", ListenersText(stack_)));
    for (;;) {
      int sig = signals_->Wait(seconds(3600));
      if (sig == SIGHUP) {
        Reload();
      } else if (sig == SIGTERM || sig == SIGINT) {
        Drain(sig);
        return 0;
      }
    }
  }

 private:
  // Brings the node up, upstream last: nothing takes a call before what it hands on to runs.
  // On failure `failed_stage_` names the stage and StopStarted() undoes what was started.
  Status Start() {
    const DataDir dirs = DataDirOf(config_);
    failed_stage_ = "data_dir";
    CV_RETURN_IF_ERROR(CreateDataDir(*fs_, dirs.root));
    // Encryption at rest: a refused master key stops the start here (nothing recorded yet).
    failed_stage_ = "encryption";
    CV_RETURN_IF_ERROR(encryption_.Start(fs_, &metrics_));
    const size_t fd_limit = RaiseFdLimit();
    failed_stage_ = "media";
    CV_RETURN_IF_ERROR(media_.Start());
    started_media_ = true;
    // A new two-stream call: its media descriptors + its session.jsonl.
    // The /proc/self/fd count behind it is refreshed at most every 500 ms (by the readiness
    // check: ~5 ms for 20,000 descriptors); calls opened or closed between counts are followed.
    fds_.Configure(fd_limit, static_cast<size_t>(config_.server.fd_reserve),
                   media_.DescriptorsPerCall(2) + 1, milliseconds(500));
    RegisterMetrics();
    // Deletes a crash interrupted; on failure the intents stay for the next start.
    if (Status s = recordings_.Recover(); !s.ok()) {
      CV_LOG_ERROR("server.recordings_recovery_failed", "error=\"{}\"", s.message());
    }
    failed_stage_ = "outbox";
    for (const std::string& queue : dirs.all_queues()) CV_RETURN_IF_ERROR(outbox_.OpenQueue(queue));
    // Calls a previous run did not finish (crash, kill -9, stop mid-finalization) first.
    failed_stage_ = "recovery";
    std::vector<std::pair<std::string, std::string>> crashed;
    const auto recovery_started = SteadyClock::now();
    CV_ASSIGN_OR_RETURN(recovered_, finalizer_.RecoverAtStartup(dirs.spool(), &crashed));
    recorder_.AddRecoveredCalls(crashed);
    finalizer_.set_on_finalized([this](const recording::FinalizeResult& r) {
      if (!calls_ended_) return;
      const auto tenant = r.manifest.find("tenant");
      const bool has = tenant != r.manifest.end() && tenant->is_string();
      calls_ended_
          ->With({r.manifest.value("state", ""),
                  tenants_.MetricLabel(has ? tenant->get<std::string>() : "")})
          ->Inc();
    });
    // A crash backlog is finalized by the same pool as new calls.
    finalizer_.Start();
    started_finalizer_ = true;
    if (recovered_ > 0) WatchRecovery(recovered_, recovery_started);
    // The catalog is opened by the ingester's thread (and retried there while the database
    // is down): the start of recording never waits for it (DESIGN.md rule 1).
    ingester_.Start();
    started_ingester_ = true;
    audit_heads_.Start();  // the audit chains' heads in the log, hourly
    // Relocation to S3, purges, retention: downstream of finalize, never waited on.
    failed_stage_ = "storage";
    CV_ASSIGN_OR_RETURN(storage_, StorageStack::Create(config_, fs_, clock_, &metrics_, &outbox_,
                                                       &recordings_, &catalog_));
    storage_->Start();
    // Replication: the peer endpoint and one sender per peer (downstream of finalize too).
    failed_stage_ = "cluster";
    CV_ASSIGN_OR_RETURN(cluster_, ClusterStack::Create(config_, fs_, clock_, &metrics_, &outbox_,
                                                       &catalog_, [this] {
                                                         if (storage_) storage_->purger()->Wake();
                                                       }));
    if (cluster_) CV_RETURN_IF_ERROR(cluster_->Start());
    if (config_.http.enabled) {
      failed_stage_ = "http";
      http_ = std::make_unique<http::HttpServer>(HttpOptionsFromConfig(config_), &catalog_,
                                                 encryption_.Wrap(storage_->store()),  // decrypts
                                                 &metrics_, ReadinessChecks(), clock_);
      http_->SetLifecycle(storage_->purger(), storage_->retention());
      http_->SetNodeControl(
          config_.node.id, [this](bool drain) { admin_drained_.store(drain); },
          [this] { return admin_drained_.load() || draining_.load(); });
      const int64_t started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     clock_->WallNow().time_since_epoch())
                                     .count();
      http_->SetSystemInfo(fmt::format("{} ({})", kVersion, kGitDescribe), started_ms,
                           [this] { return SystemStatus(); });
      CV_RETURN_IF_ERROR(http_->Start());
    }
    // The tenant rules (config [tenants]) and the catalog's tenant list, read on their own
    // thread: a new call's tenant never waits for the database.
    failed_stage_ = "tenants";
    CV_RETURN_IF_ERROR(tenants_.Configure(config_.tenants));
    tenants_.Start();
    recorder_.Start();
    started_recorder_ = true;
    // A hot spare: record what the mirrored traffic shows (a capture without permission stops
    // the start here, naming the cause).
    failed_stage_ = "passive";
    CV_ASSIGN_OR_RETURN(passive_, PassiveStack::Create(config_, &media_, &backend_, clock_,
                                                       &metrics_));
    if (passive_) CV_RETURN_IF_ERROR(passive_->Start());
    failed_stage_ = "sip";
    CV_RETURN_IF_ERROR(stack_.Start());
    // From now on the recorder's checks decide whether SIP takes new calls (503 + Warning).
    availability_ = std::make_unique<RecorderAvailability>(
        ReadinessChecks(),
        [this](const sip::Availability& a) {
          sip_accepting_.store(a.accept_calls);
          stack_.SetAvailability(a);
        },
        kAvailabilityInterval, kUnavailableRetryAfterS);
    availability_->Start();
    LogCallCapacity();
    return Status::Ok();
  }

  // How many concurrent calls this node takes, and what binds first: descriptors (counted now
  // that every service holds what it holds at rest) or RTP ports.
  void LogCallCapacity() {
    fds_.Refresh().IgnoreError();
    const size_t by_fds = fds_.free_calls();
    const size_t by_ports = media_.port_capacity() / 2;  // two streams per call
    CV_LOG_INFO("server.call_capacity",
                "calls={} limited_by={} calls_by_fds={} calls_by_ports={} fd_limit={} "
                "fds_in_use={} fd_reserve={} fds_per_call={} rtcp_sockets={}",
                std::min(by_fds, by_ports), by_fds <= by_ports ? "fds" : "ports", by_fds, by_ports,
                fds_.limit(), fds_.in_use(), fds_.reserve(), fds_.per_call(),
                config_.media.rtcp_sockets);
  }

  // Stops what Start() started, in Drain()'s order: upstream first, so nothing is handed to a
  // stage that has stopped.
  void StopStarted() {
    if (availability_) availability_->Stop();
    if (passive_) passive_->Stop();
    if (started_recorder_) recorder_.Stop();
    tenants_.Stop();
    if (started_media_) media_.Stop();
    if (started_finalizer_) finalizer_.Stop();
    if (started_ingester_) ingester_.Stop();
    if (http_) http_->Stop();
    if (cluster_) cluster_->Stop();
    if (storage_) storage_->Stop();
  }

  // One sd_notify message; a failure is logged and otherwise ignored.
  void Notify(std::string_view state) {
    if (Status s = notifier_.Send(state); !s.ok()) {
      CV_LOG_WARN("server.notify_failed", "error=\"{}\"", s.message());
    }
  }

  void Reload() {
    Notify("RELOADING=1");
    ReloadConfig();
    Notify("READY=1");
  }

  void ReloadConfig() {
    if (args_.config_path.empty()) {
      CV_LOG_INFO("config.reload_skipped",
                  "reason=\"no config file: running on embedded "
                  "defaults\"");
      return;
    }
    CV_LOG_INFO("config.reload_started", "file=\"{}\"", args_.config_path);
    Result<ServeConfig> loaded = LoadServeConfig(args_.config_path, args_.overrides);
    if (!loaded.ok()) {
      CV_LOG_ERROR("config.reload_failed", "action=kept_running_config error=\"{}\"",
                   OneLine(loaded.status().message()));
      return;
    }
    const Config& next = loaded->config;
    std::vector<std::string> applied, restart;
    for (const auto& key : ChangedKeys(config_, next)) {
      (IsReloadable(key) ? applied : restart).push_back(key);
    }
    Config updated = config_;
    ApplyReloadable(next, &updated);
    if (Status s = InitLogging(updated.log); !s.ok()) {
      CV_LOG_ERROR("config.reload_failed", "action=kept_running_config error=\"{}\"",
                   OneLine(s.message()));
      return;
    }
    if (updated.tenants.rules != next.tenants.rules) {
      updated.tenants.rules = next.tenants.rules;
      applied.push_back("tenants.rule");
    }
    if (Status s = tenants_.Configure(updated.tenants); !s.ok()) {
      CV_LOG_ERROR("config.reload_failed", "action=kept_running_config error=\"{}\"",
                   OneLine(s.message()));
      return;
    }
    config_ = std::move(updated);
    if (cluster_) cluster_->Reload(next);
    // The S3 secret file is read again on every SIGHUP (a corrected or rotated secret).
    if (storage_) {
      if (Status s = storage_->ReloadCredentials(config_); !s.ok()) {
        CV_LOG_ERROR("config.reload_failed", "part=s3_credentials error=\"{}\"",
                     OneLine(s.message()));
      }
    }
    CV_LOG_INFO("config.reloaded", "applied={} log_level={} log_format={} drain_timeout_s={}",
                Join(applied), config_.log.level, config_.log.format,
                config_.server.drain_timeout.count());
    if (!restart.empty()) {
      CV_LOG_WARN("config.restart_needed",
                  "keys={} reason=\"changed but not reloadable; the "
                  "running values stay until a restart\"",
                  Join(restart));
    }
  }

  // Waits up to `limit` for the active calls to end; false when a SIGTERM/SIGINT came first.
  bool WaitForCalls(SteadyClock::duration limit, bool* interrupted) {
    auto deadline = SteadyClock::now() + limit;
    while (stack_.active_dialogs() > 0 && SteadyClock::now() < deadline) {
      int sig = signals_->Wait(kDrainPoll);
      if (sig == SIGTERM || sig == SIGINT) {
        *interrupted = true;
        CV_LOG_WARN("server.drain_skipped", "signal={} active_calls={}", SignalName(sig),
                    stack_.active_dialogs());
        return false;
      }
      if (sig == SIGHUP) {
        CV_LOG_INFO("config.reload_skipped", "reason=\"draining\"");
      }
    }
    return stack_.active_dialogs() == 0;
  }

  void Drain(int sig) {
    seconds timeout = config_.server.drain_timeout;
    auto started = SteadyClock::now();
    // Retry-After: the SRC should not come back before this node has restarted.
    int retry_after = static_cast<int>(timeout.count()) + 30;
    if (availability_) availability_->Stop();  // the drain decides admission from here on
    draining_.store(true);
    sip_accepting_.store(false);
    Notify(fmt::format("STOPPING=1\nSTATUS=draining: {} active calls, up to {} s",
                       stack_.active_dialogs(), timeout.count()));
    stack_.SetAvailability(
        {.accept_calls = false, .retry_after_s = retry_after, .reason = "node is draining"});
    CV_LOG_INFO("server.drain_started", "signal={} active_calls={} timeout_s={} retry_after_s={}",
                SignalName(sig), stack_.active_dialogs(), timeout.count(), retry_after);
    bool interrupted = false;
    if (WaitForCalls(timeout, &interrupted)) {
      CV_LOG_INFO("server.drain_done", "active_calls=0 waited_ms={}",
                  std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started).count());
    } else {
      uint64_t left = stack_.active_dialogs();
      if (!interrupted) CV_LOG_WARN("server.drain_timeout", "active_calls={}", left);
      CV_LOG_INFO("server.terminating_calls", "active_calls={} reason=\"node shutting down\"",
                  left);
      stack_.TerminateAll("node shutting down");
      bool ignored = false;
      if (!WaitForCalls(kByeGrace, &ignored)) {
        CV_LOG_WARN("server.calls_not_ended", "active_calls={} grace_s={}", stack_.active_dialogs(),
                    kByeGrace.count());
      }
    }
    StackStatsLine();
    stack_.Stop();
    if (passive_) passive_->Stop();  // ends what it still records (reason shutdown)
    recorder_.Stop();  // ends what is still recording (reason shutdown)
    media_.Stop();
    WaitForFinalizer(timeout);
    finalizer_.Stop();
    // What the catalog has not taken yet stays in the outbox for the next start.
    ingester_.WaitIdle(std::chrono::seconds(5));
    ingester_.Stop();
    if (http_) http_->Stop();
    // Transfers in flight finish or are resumed after the restart; entries stay queued.
    if (cluster_) cluster_->Stop();
    // Uploads in flight finish; what is left stays in the outbox for the next start.
    if (storage_) storage_->Stop();
    CV_LOG_INFO("server.stopped", "exit_code=0 drain_ms={}",
                std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started).count());
  }

  // Lets the finalizer finish what is queued (bounded: the rest stays in the spool).
  void WaitForFinalizer(seconds limit) {
    auto deadline = SteadyClock::now() + limit;
    while (finalizer_.pending() > 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(kDrainPoll);
    }
    CV_LOG_INFO("server.finalizer_stopped", "pending={} finalized={} failures={}",
                finalizer_.pending(), finalizer_.finalized(), finalizer_.failures());
  }

  void RegisterMetrics() {
    auto add = [this](std::string_view name, std::string_view help, std::function<double()> f) {
      if (Status s = metrics_.AddCallbackGauge(name, help, std::move(f)); !s.ok())
        CV_LOG_WARN("server.metric_failed", "metric={} error=\"{}\"", name, s.message());
    };
    add("callvault_active_calls", "Calls recording now.",
        [this] { return static_cast<double>(recorder_.active_calls()); });
    add("callvault_disk_write_rate_bytes",
        "Bytes per second the node asks the spool's filesystem to write (spool demand + finalized "
        "audio, last 10 s) at the last disk_headroom check.",
        [this] { return headroom_.rate_bytes_per_s(); });
    add("callvault_disk_seconds_to_full",
        "Estimated seconds until the spool's filesystem is full at that rate (0 = not filling), "
        "compared with recorder.disk_full_horizon_s.",
        [this] { return headroom_.seconds_to_full(); });
    add("callvault_finalize_backlog", "Ended calls waiting to be finalized (spool backlog).",
        [this] { return static_cast<double>(finalizer_.pending()); });
    add("callvault_sip_dialogs", "SIP dialogs open now.",
        [this] { return static_cast<double>(stack_.active_dialogs()); });
    // Session-log group commit (base/group_sync.h): requests / rounds = decisions per sync.
    auto add_counter = [this](std::string_view name, std::string_view help,
                              std::function<double()> f) {
      if (Status s = metrics_.AddCallbackCounter(name, help, std::move(f)); !s.ok())
        CV_LOG_WARN("server.metric_failed", "metric={} error=\"{}\"", name, s.message());
    };
    add_counter("callvault_session_sync_rounds_total",
                "Group-commit rounds that made session logs durable (one sync covers every "
                "decision written before the round).",
                [this] { return static_cast<double>(backend_.sync_stats().rounds); });
    add_counter("callvault_session_sync_requests_total",
                "Session-log syncs completed (INVITE decisions, re-INVITE/UPDATE changes, ends).",
                [this] { return static_cast<double>(backend_.sync_stats().requests); });
    add_counter("callvault_session_sync_batched_rounds_total",
                "Group-commit rounds done with one syncfs of the spool root.",
                [this] { return static_cast<double>(backend_.sync_stats().batched_rounds); });
    add_counter("callvault_session_sync_failures_total",
                "Session-log syncs that failed (an INVITE's: answered 503).",
                [this] { return static_cast<double>(backend_.sync_stats().failed); });
    add("callvault_fds_in_use",
        "File descriptors in use (last count of /proc/self/fd moved by calls opened and closed "
        "since): what call admission compares with the limit.",
        [this] { return static_cast<double>(fds_.in_use()); });
    add("callvault_fds_limit", "File descriptors the process may hold (RLIMIT_NOFILE).",
        [this] { return static_cast<double>(fds_.limit()); });
    add("callvault_fds_reserved",
        "File descriptors kept for what is not a call (server.fd_reserve).",
        [this] { return static_cast<double>(fds_.reserve()); });
    add("callvault_fds_free_calls", "New two-stream calls that fit in the descriptors left.",
        [this] { return static_cast<double>(fds_.free_calls()); });
    if (Result<Family<Counter>> f = metrics_.AddCounterFamily(
            "callvault_calls_ended_total",
            "Finished recordings by end state and tenant (\"none\"; after 100 tenants "
            "\"other\").",
            {"state", "tenant"});
        f.ok())
      calls_ended_ = *f;
    RegisterOpsMetrics(
        &metrics_, fs_,
        {.sip_stats = [this] { return stack_.stats(); },
         .accepting_calls = [this] { return sip_accepting_.load(); },
         .spool_dir = DataDirOf(config_).spool(),
         .min_free_bytes = uint64_t(config_.http.min_free_disk_mb) << 20,
         .certificates = {{"sip", config_.sip.transport.tls_certificate_file},
                          {"cluster", config_.cluster.cert_file}}});
    if (Result<Gauge*> g = metrics_.AddGauge(
            "callvault_build_info", "Version of this binary.",
            {{"version", std::string(kVersion)}, {"git", std::string(kGitDescribe)}});
        g.ok())
      (*g)->Set(1);
  }

  // GET /api/v1/system's backlogs (outbox queues, the finalizer's spool backlog), disks and
  // active calls.
  nlohmann::json SystemStatus() {
    const DataDir dirs = DataDirOf(config_);
    nlohmann::json backlog = nlohmann::json::array();
    backlog.push_back(
        {{"queue", "finalize"}, {"entries", finalizer_.pending()}, {"oldest", nullptr}});
    for (const std::string& queue : dirs.all_queues()) {
      backlog.push_back(
          {{"queue", queue}, {"entries", outbox_.backlog(queue)}, {"oldest", nullptr}});
    }
    nlohmann::json disk = nlohmann::json::array();
    for (const auto& [name, path] : {std::pair<std::string, std::string>{"spool", dirs.spool()},
                                     {"recordings", dirs.recordings()},
                                     {"outbox", dirs.outbox()}}) {
      nlohmann::json entry = {{"name", name}, {"path", path}};
      // A directory made on first use (recordings/) is measured on its parent until then.
      std::string probe = path;
      while (!fs_->Exists(probe) && probe.find('/') != std::string::npos && probe != "/") {
        probe = probe.substr(0, std::max<size_t>(1, probe.rfind('/')));
      }
      Result<uint64_t> free = fs_->FreeBytes(probe);
      Result<uint64_t> total = fs_->TotalBytes(probe);
      entry["free_bytes"] = free.ok() ? nlohmann::json(*free) : nlohmann::json(nullptr);
      entry["total_bytes"] = total.ok() ? nlohmann::json(*total) : nlohmann::json(nullptr);
      if (!free.ok()) entry["error"] = free.status().message();
      disk.push_back(std::move(entry));
    }
    return {{"backlog", std::move(backlog)},
            {"disk", std::move(disk)},
            {"active_calls", recorder_.active_calls()}};
  }

  // /readyz checks of the recorder role (the web role's catalog check is added by http/).
  std::vector<http::ReadinessCheck> ReadinessChecks() {
    std::vector<http::ReadinessCheck> checks;
    const std::string spool = DataDirOf(config_).spool();
    checks.push_back({"spool_writable", "recorder", [this, spool]() -> Status {
                        CV_RETURN_IF_ERROR(fs_->CreateDirs(spool));
                        return CheckWritable(*fs_, spool).Annotate("spool");
                      }});
    checks.push_back({"rtp_ports", "recorder", [this]() -> Status {
                        if (media_.free_ports() < size_t(config_.recorder.min_free_streams))
                          return ResourceExhaustedError(fmt::format(
                              "{} RTP port pairs free, fewer than recorder.min_free_streams = {}",
                              media_.free_ports(), config_.recorder.min_free_streams));
                        return Status::Ok();
                      }});
    const uint64_t min_free = uint64_t(config_.http.min_free_disk_mb) << 20;
    checks.push_back({"descriptors", "recorder", [this]() -> Status { return fds_.Check(); }});
    checks.push_back({"disk_space", "recorder", [this, spool, min_free]() -> Status {
                        Result<uint64_t> free = fs_->FreeBytes(spool);
                        if (!free.ok()) return free.status();
                        if (*free < min_free)
                          return ResourceExhaustedError(
                              fmt::format("{} MiB free on the spool's filesystem, below {} MiB",
                                          *free >> 20, min_free >> 20));
                        return Status::Ok();
                      }});
    // Time to full at the current write rate (issue 21): refuse before the disk is full, so
    // the calls already answered can finish.
    checks.push_back(
        {"disk_headroom", "recorder", [this]() -> Status { return headroom_.Check(); }});
    checks.push_back({"sip_accepting", "recorder", [this]() -> Status {
                        if (draining_.load())
                          return UnavailableError("draining: new calls are refused");
                        if (admin_drained_.load())
                          return UnavailableError("drained by an operator (/api/v1/node/drain)");
                        return Status::Ok();
                      }});
    return checks;
  }

  // Logs recovery progress every second until the crash backlog is finalized.
  void WatchRecovery(size_t total, SteadyClock::time_point started) {
    recovery_watch_ = std::thread([this, total, started] {
      SetCurrentThreadName("cv-recovery");
      uint64_t base = finalizer_.finalized();
      while (!stop_watch_.load()) {
        std::this_thread::sleep_for(milliseconds(200));
        const uint64_t done = finalizer_.finalized() - base;
        const auto ms =
            std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started).count();
        if (done >= total || finalizer_.pending() == 0) {
          CV_LOG_INFO("server.recovery_done", "calls={} took_ms={}", total, ms);
          return;
        }
        if (++ticks_ % 5 == 0)
          CV_LOG_INFO("server.recovery_progress", "finalized={} of={} elapsed_ms={}", done, total,
                      ms);
      }
    });
  }

  void StackStatsLine() {
    sip::StackStats s = stack_.stats();
    CV_LOG_INFO("server.sip_stats",
                "requests_in={} responses_out={} dialogs_created={} dialogs_ended={} "
                "malformed={} answered_stateless={} overload_drops={}",
                s.requests_in, s.responses_out, s.dialogs_created, s.dialogs_ended, s.malformed,
                s.answered_stateless, s.overload_drops);
  }

  const ServeArgs& args_;
  Config config_;  // running config (reloadable keys updated by SIGHUP)
  Fs* const fs_;
  Clock* const clock_;
  Encryption encryption_;  // before finalizer_, which takes its key policy
  Registry metrics_;
  media::MediaEngine media_;
  outbox::Outbox outbox_;
  recording::FinalizeQueue finalizer_;
  catalog::DeferredCatalog catalog_;
  catalog::AuditHeadLogger audit_heads_{&catalog_};  // stops before catalog_ goes
  storage::LocalRecordingStore recordings_;
  catalog::Ingester ingester_;
  TenantAssigner tenants_;  // before recorder_, which asks it for each new call's tenant
  // Call admission by file descriptors (before recorder_, which asks it for each new INVITE):
  // calls hold the media engine's sockets and spool files and one session log each.
  DescriptorBudget fds_{clock_,
                        [this] { return media_.open_descriptors() + recorder_.active_calls(); }};
  recording::LocalBackend backend_;
  // The recorder's disk_headroom check: the spool's write demand + finalized audio against the
  // free space of the spool's filesystem.
  recording::DiskHeadroom headroom_{
      {.horizon = seconds(config_.recorder.disk_full_horizon_s)},
      clock_,
      [this] { return media_.spool_demand_bytes() + finalizer_.bytes_written(); },
      [this] { return fs_->FreeBytes(DataDirOf(config_).spool()); }};
  siprec::Recorder recorder_;
  sip::Stack stack_;
  SignalWaiter* signals_;
  SystemdNotifier notifier_;  // $NOTIFY_SOCKET, read at construction
  std::unique_ptr<StorageStack> storage_;
  std::unique_ptr<PassiveStack> passive_;  // [passive] enabled: the hot spare's capture
  std::unique_ptr<ClusterStack> cluster_;
  std::unique_ptr<http::HttpServer> http_;
  std::optional<Family<Counter>> calls_ended_;  // set by RegisterMetrics before any call ends
  std::atomic<bool> draining_{false};           // SIGTERM/SIGINT
  std::atomic<bool> sip_accepting_{true};       // what the stack was last told (metrics)
  std::atomic<bool> admin_drained_{false};      // PUT /api/v1/node/drain
  std::unique_ptr<RecorderAvailability> availability_;
  std::thread recovery_watch_;
  std::atomic<bool> stop_watch_{false};
  int ticks_ = 0;  // recovery_watch_ only
  // Start() progress (main thread only).
  std::string failed_stage_;
  size_t recovered_ = 0;
  bool started_media_ = false, started_finalizer_ = false, started_ingester_ = false,
       started_recorder_ = false;
};

}  // namespace

catalog::CatalogOptions CatalogOptionsFromConfig(const Config& c) {
  catalog::CatalogOptions o;
  o.url = c.catalog.url.empty() ? "sqlite:" + DataDirOf(c).catalog_db() : c.catalog.url;
  o.pool_size = c.catalog.pool_size;
  o.node_id = c.node.id;
  return o;
}

Result<sip::StackOptions> StackOptionsFromConfig(const Config& config) {
  sip::StackOptions o;
  o.core = config.sip.core;
  o.transport = config.sip.transport;
  o.workers = config.sip.workers;
  for (const ListenSpec& l : config.sip.listen) {
    sip::Transport kind = l.transport == "udp"   ? sip::Transport::kUdp
                          : l.transport == "tcp" ? sip::Transport::kTcp
                                                 : sip::Transport::kTls;
    CV_ASSIGN_OR_RETURN(sip::SocketAddress addr, sip::SocketAddress::FromIpPort(l.host, l.port));
    o.listen.emplace_back(kind, addr);
  }
  return o;
}

Result<ServeConfig> LoadServeConfig(const std::string& path,
                                    const std::vector<ConfigOverride>& overrides) {
  CV_ASSIGN_OR_RETURN(Config config, LoadConfig(path, overrides));
  // The cluster's TLS files are read now, so check-config catches an unusable one.
  if (!config.cluster.listen.empty() || !config.cluster.peers.empty()) {
    if (Status s = replication::ValidateTlsFiles(
            {config.cluster.cert_file, config.cluster.key_file, config.cluster.ca_file});
        !s.ok())
      return s.Annotate(config.source + ": cluster.cert_file / key_file / ca_file");
  }
  Result<sip::StackOptions> stack = StackOptionsFromConfig(config);
  if (!stack.ok()) return stack.status().Annotate(config.source + ": sip.listen");
  return ServeConfig{std::move(config), std::move(stack).value()};
}

int Serve(const ServeArgs& args) {
  SignalWaiter signals;  // first: every thread started from here on inherits the mask
  Result<ServeConfig> loaded = LoadServeConfig(args.config_path, args.overrides);
  if (!loaded.ok()) {
    std::fprintf(stderr, "callvault: invalid configuration:\n%s\n",
                 std::string(loaded.status().message()).c_str());
    return 1;
  }
  if (Status s = InitLogging(loaded->config.log); !s.ok()) {
    std::fprintf(stderr, "callvault: %s\n", s.ToString().c_str());
    return 1;
  }
  Server server(args, std::move(loaded).value(), &signals);
  return server.Run();
}

}  // namespace callvault::app
