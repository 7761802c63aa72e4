// The Recorder test fixture: real SIP messages through a real sip::Shard into the Recorder, a
// fake RecordingBackend underneath (message in → SIP answer and backend calls out). Shared by
// recorder_test.cc and recorder_cisco_test.cc.
//
// Thread-safety: FakeBackend is thread-safe (the recorder's workers call it); the fixture runs
// on the test thread.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sip/shard.h"
#include "siprec/recorder.h"

namespace callvault::siprec::testing {

using namespace std::chrono_literals;

class FakeBackend : public RecordingBackend {
 public:
  Status BeginCall(const CallStart& s) override {
    std::lock_guard<std::mutex> l(mu);
    if (fail_begin) return ResourceExhaustedError("disk full");
    begun.push_back(s);
    return Status::Ok();
  }
  Status LogEvent(const std::string& call_id, nlohmann::json e) override {
    std::lock_guard<std::mutex> l(mu);
    e["call"] = call_id;
    events.push_back(std::move(e));
    return Status::Ok();
  }
  Status SyncCall(const std::string&) override {
    std::lock_guard<std::mutex> l(mu);
    ++syncs;
    return Status::Ok();
  }
  // With defer_syncs, an INVITE's sync stays in flight until the test completes it (as a
  // group-commit round would, later, on another thread).
  void SyncCallAsync(const std::string& call_id, std::function<void(Status)> done) override {
    {
      std::lock_guard<std::mutex> l(mu);
      if (defer_syncs) {
        deferred_syncs.push_back(std::move(done));
        cv.notify_all();
        return;
      }
    }
    done(SyncCall(call_id));
  }
  // Waits (bounded) until `n` syncs are in flight.
  bool WaitForDeferredSyncs(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, 5s, [&] { return deferred_syncs.size() >= n; });
  }
  // Completes the oldest sync in flight with `s`, from the calling thread.
  void CompleteDeferredSync(Status s) {
    std::function<void(Status)> done;
    {
      std::lock_guard<std::mutex> l(mu);
      done = std::move(deferred_syncs.front());
      deferred_syncs.erase(deferred_syncs.begin());
    }
    done(std::move(s));
  }
  void AbortCall(const std::string& call_id) override {
    std::lock_guard<std::mutex> l(mu);
    aborted.push_back(call_id);
  }
  Result<uint16_t> OpenStream(const StreamOpen& s) override {
    std::lock_guard<std::mutex> l(mu);
    opened.push_back(s);
    return static_cast<uint16_t>(40000 + 2 * (opened.size() - 1));
  }
  Status SetPaused(const std::string&, const std::string& stream, bool p) override {
    std::lock_guard<std::mutex> l(mu);
    paused.emplace_back(stream, p);
    return Status::Ok();
  }
  Status UpdateSrtp(const std::string&, const std::string&, const std::string&,
                    const std::string&) override {
    return Status::Ok();
  }
  Status EndCall(const CallEnd& e) override {
    std::lock_guard<std::mutex> l(mu);
    ended.push_back(e);
    return Status::Ok();
  }
  size_t FreeStreams() const override { return free_streams; }
  std::string MediaAddressV4() const override { return "192.0.2.20"; }
  std::string MediaAddressV6() const override { return ""; }

  std::vector<nlohmann::json> Events(const std::string& type) {
    std::lock_guard<std::mutex> l(mu);
    std::vector<nlohmann::json> out;
    for (const auto& e : events)
      if (e["t"] == type) out.push_back(e);
    return out;
  }

  std::mutex mu;
  std::condition_variable cv;
  bool defer_syncs = false;
  std::vector<std::function<void(Status)>> deferred_syncs;
  bool fail_begin = false;
  size_t free_streams = 1000;
  std::vector<CallStart> begun;
  std::vector<nlohmann::json> events;
  int syncs = 0;
  std::vector<std::string> aborted;
  std::vector<StreamOpen> opened;
  std::vector<std::pair<std::string, bool>> paused;
  std::vector<CallEnd> ended;
};

class Sender : public sip::Sender {
 public:
  Result<sip::Flow> Send(const sip::Flow& flow, std::string data) override {
    sent.push_back(std::move(data));
    return flow;
  }
  std::vector<std::string> sent;
};

// Runs posted work on the test thread (the "shard thread") when pumped.
class Executor : public sip::Executor {
 public:
  void Post(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      posted_.push_back(std::move(fn));
    }
    cv_.notify_all();
  }
  bool IsCurrent() const override { return std::this_thread::get_id() == owner_; }
  sip::TimePoint Now() const override { return now; }
  // Waits (bounded) for posted work and runs it.
  bool Pump() {
    std::deque<std::function<void()>> run;
    {
      std::unique_lock<std::mutex> l(mu_);
      if (!cv_.wait_for(l, 3s, [&] { return !posted_.empty(); })) return false;
      run.swap(posted_);
    }
    for (auto& fn : run) fn();
    return true;
  }
  sip::TimePoint now{};

 private:
  std::thread::id owner_ = std::this_thread::get_id();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> posted_;
};

inline const char kSdp[] =
    "v=0\r\no=SRC 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=label:1\r\na=sendonly\r\n"
    "m=audio 30002 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=label:2\r\na=sendonly\r\n";

inline const char kMetadata[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\r\n"
    "<datamode>complete</datamode>\r\n"
    "<session session_id=\"c2Vzcw==\"><sipSessionID>abc</sipSessionID></session>\r\n"
    "<participant participant_id=\"cGE=\"><nameID aor=\"sip:alice@example.com\"><name>Alice</name>"
    "</nameID></participant>\r\n"
    "<participant participant_id=\"cGI=\"><nameID aor=\"sip:bob@example.com\"/></participant>\r\n"
    "<stream stream_id=\"czE=\" session_id=\"c2Vzcw==\"><label>1</label></stream>\r\n"
    "<stream stream_id=\"czI=\" session_id=\"c2Vzcw==\"><label>2</label></stream>\r\n"
    "<participantstreamassoc participant_id=\"cGE=\"><send>czE=</send><recv>czI=</recv>"
    "</participantstreamassoc>\r\n"
    "<participantstreamassoc participant_id=\"cGI=\"><send>czI=</send><recv>czE=</recv>"
    "</participantstreamassoc>\r\n"
    "</recording>\r\n";

inline std::string Multipart(const std::string& sdp, const std::string& xml) {
  return "--b1\r\nContent-Type: application/sdp\r\n\r\n" + sdp +
         "\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\n"
         "Content-Disposition: recording-session\r\n\r\n" +
         xml + "\r\n--b1--\r\n";
}

class RecorderTest : public ::testing::Test {
 protected:
  RecorderTest() {
    flow_.transport = sip::Transport::kUdp;
    flow_.local = *sip::SocketAddress::Parse("192.0.2.20:5060");
    flow_.remote = *sip::SocketAddress::Parse("192.0.2.10:5060");
    RecorderOptions o;
    o.workers = 2;
    o.can_decode = [](const codec::CodecSpec& c) {
      return c.name == "PCMA" || c.name == "PCMU" || c.name == "G722" || c.name == "opus";
    };
    o.admit_call = [this] { return admission_.load() ? Status::Ok() : refusal_; };
    recorder_ = std::make_unique<Recorder>(
        o, &backend_, RealClock(), [this](const sip::DialogId& d, int cause, std::string text) {
          exec_.Post(
              [this, d, cause, text] { shard_->TerminateDialog(d, cause, text, exec_.now); });
        });
    recorder_->Start();
    shard_ = std::make_unique<sip::Shard>(sip::CoreOptions{}, &sender_, recorder_.get(), &exec_, 7);
  }
  ~RecorderTest() override { recorder_->Stop(); }

  void Deliver(const std::string& method, int cseq, const std::string& content_type,
               const std::string& body, const std::string& to_tag = "",
               const std::string& call_id = "rec-1@src") {
    std::string m = method + " sip:srs@192.0.2.20 SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" + method + std::to_string(cseq) + "-" +
         call_id + "\r\nMax-Forwards: 70\r\nFrom: <sip:src@192.0.2.10>;tag=srctag\r\n";
    m += "To: <sip:srs@192.0.2.20>" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\n";
    m += "Call-ID: " + call_id + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
    m += "Contact: <sip:src@192.0.2.10:5060>;+sip.src\r\nUser-Agent: TestSRC\r\n";
    m += "X-Tenant-Hint: acme\r\n";
    if (!content_type.empty()) m += "Content-Type: " + content_type + "\r\n";
    m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    DeliverRaw(std::move(m));
  }

  // A whole message as the SRC sends it (CRLF line ends, Content-Length right).
  void DeliverRaw(std::string m) {
    auto in = std::make_unique<sip::InboundMessage>();
    in->data = std::move(m);
    sip::ParseResult p = sip::Parse(in->data);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString();
    in->message = std::move(p.message);
    mark_ = sender_.sent.size();
    shard_->OnMessage(std::move(in), flow_, exec_.now);
  }

  // The first final response sent since the last Deliver(), after pumping the recorder.
  sip::Message Final() {
    for (int i = 0; i < 5; ++i) {
      for (size_t k = mark_; k < sender_.sent.size(); ++k) {
        sip::ParseResult p = sip::Parse(sender_.sent[k]);
        if (p.status.ok() && !p.message.is_request && p.message.status_code >= 200) {
          last_ = sender_.sent[k];
          mark_ = k + 1;
          return sip::Parse(last_).message;
        }
      }
      exec_.Pump();
    }
    ADD_FAILURE() << "no final response";
    return {};
  }
  std::string Tag(const sip::Message& m) { return std::string(m.to.tag); }
  std::string Warning(const sip::Message& m) {
    return std::string(m.Find(sip::HeaderId::kWarning).value_or(""));
  }

  FakeBackend backend_;
  Sender sender_;
  Executor exec_;
  sip::Flow flow_;
  std::unique_ptr<Recorder> recorder_;
  std::atomic<bool> admission_{true};
  const Status refusal_ = ResourceExhaustedError(
      "file descriptors: 19997 of 20000 in use, a new call needs 4 and 1024 are reserved");
  std::unique_ptr<sip::Shard> shard_;
  std::string last_;
  size_t mark_ = 0;
};

}  // namespace callvault::siprec::testing
