// sip_test_uas: a UAS built on callvault's SIP stack, for sipp system tests.
//
// Answers INVITE/re-INVITE with 200 + an SDP answer, UPDATE/INFO/BYE with 200. A Request-URI
// user of "delay" makes it answer the INVITE 2 s later from another thread (CANCEL tests);
// "busy" gets 486. Prints "LISTEN <transport> <addr>" per bound listener, then "READY", and
// runs until SIGTERM/SIGINT, then prints its counters.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sip/stack.h"

namespace {

using namespace callvault;
using namespace callvault::sip;

class EchoApp : public Application {
 public:
  void OnInvite(const IncomingRequest& r, Responder responder) override {
    invites++;
    auto uri = ParseUri(r.message.request_uri);
    std::string user = uri.ok() ? std::string(uri->user) : "";
    if (user == "busy") {
      responder.Respond(Response::Error(486, "test UAS told to be busy"));
      return;
    }
    Response ok = Answer(r.message);
    if (user == "delay") {
      std::lock_guard<std::mutex> lock(mu_);
      delayed_.emplace_back([responder, ok]() mutable {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        responder.Respond(std::move(ok));
      });
      return;
    }
    responder.Respond(std::move(ok));
  }
  void OnDialogRequest(const IncomingRequest& r, Responder responder) override {
    in_dialog++;
    if (r.message.method == Method::kInvite) {
      responder.Respond(Answer(r.message));
    } else {
      responder.Respond(Response::WithCode(200));
    }
  }
  void OnAck(const IncomingRequest&) override { acks++; }
  void OnDialogEnded(const DialogId& d, EndReason reason) override {
    ended++;
    std::printf("ENDED %s %s\n", d.call_id.c_str(), std::string(EndReasonName(reason)).c_str());
    std::fflush(stdout);
  }

  ~EchoApp() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : delayed_) t.join();
  }

  std::atomic<int> invites{0}, in_dialog{0}, acks{0}, ended{0};

 private:
  static Response Answer(const Message& m) {
    Response r;
    if (m.body.empty()) return r;
    r.content_type = "application/sdp";
    r.body =
        "v=0\r\no=callvault 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n";
    return r;
  }
  std::mutex mu_;
  std::vector<std::thread> delayed_;
};

bool ParseListen(const std::string& spec, std::pair<Transport, SocketAddress>* out) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return false;
  std::string kind = spec.substr(0, colon);
  auto addr = SocketAddress::Parse(spec.substr(colon + 1));
  if (!addr.ok()) return false;
  if (kind == "udp")
    out->first = Transport::kUdp;
  else if (kind == "tcp")
    out->first = Transport::kTcp;
  else if (kind == "tls")
    out->first = Transport::kTls;
  else
    return false;
  out->second = *addr;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  StackOptions options;
  options.workers = 2;
  options.core.user_agent = "callvault-test-uas";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    std::pair<Transport, SocketAddress> l;
    if (a == "--listen" && ParseListen(next(), &l))
      options.listen.push_back(l);
    else if (a == "--min-se")
      options.core.min_se_s = std::stoi(next());
    else if (a == "--session-expires")
      options.core.session_expires_s = std::stoi(next());
    else if (a == "--t1-ms")
      options.core.timers.t1 = Millis(std::stoi(next()));
    else if (a == "--workers")
      options.workers = std::stoi(next());
    else if (a == "--tls-cert")
      options.transport.tls_certificate_file = next();
    else if (a == "--tls-key")
      options.transport.tls_private_key_file = next();
    else {
      std::fprintf(stderr,
                   "usage: sip_test_uas --listen udp|tcp|tls:ADDR:PORT ... [--min-se S] "
                   "[--session-expires S] [--t1-ms MS] [--workers N] [--tls-cert F --tls-key F]\n"
                   "bad argument: %s\n",
                   a.c_str());
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  EchoApp app;
  Stack stack(options, &app);
  Status s = stack.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "start failed: %s\n", s.ToString().c_str());
    return 1;
  }
  for (const auto& [kind, addr] : stack.Listeners()) {
    std::printf("LISTEN %s %s\n", std::string(TransportName(kind)).c_str(),
                addr.ToString().c_str());
  }
  std::printf("READY\n");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  StackStats st = stack.stats();
  stack.Stop();
  std::printf(
      "STATS invites=%d in_dialog=%d acks=%d ended=%d malformed=%llu stateless=%llu "
      "overload=%llu dialogs_created=%llu active=%llu\n",
      app.invites.load(), app.in_dialog.load(), app.acks.load(), app.ended.load(),
      (unsigned long long)st.malformed, (unsigned long long)st.answered_stateless,
      (unsigned long long)st.overload_drops, (unsigned long long)st.dialogs_created,
      (unsigned long long)st.active_dialogs);
  return 0;
}
