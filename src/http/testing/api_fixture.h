// Test fixture for the HTTP API: a real HttpServer on 127.0.0.1, port 0, over a real SQLite
// catalog in a temp dir, with users of each built-in role (and a tenant-scoped one and a
// disabled one), a recordings dir served through a storage::LocalRecordingStore on DefaultFs(),
// helpers to ingest manifests with real WAV files, and clients.
//
// Test-only. Thread-safety: used from the test's thread; the server serves on its own.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/metrics.h"
#include "catalog/catalog.h"
#include "catalog/testing/manifests.h"
#include "http/auth.h"
#include "http/http_server.h"
#include "storage/local_recording_store.h"

namespace callvault::http::testing {

inline constexpr char kPassword[] = "password-123";

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(HttpOptions{}); }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    retention_.reset();
    purger_.reset();
    recordings_store_.reset();
    catalog_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // (Re)starts the server with `options` (port and host are set here) over the recordings store.
  void Start(HttpOptions options) {
    if (dir_.empty()) {
      char tmpl[] = "/tmp/cv_http_test_XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      recordings_ = dir_ + "/recordings";
      std::filesystem::create_directories(recordings_);
      recordings_store_ = std::make_unique<storage::LocalRecordingStore>(DefaultFs(), recordings_);
      auto catalog = catalog::OpenCatalog({.url = "sqlite:" + dir_ + "/catalog.db"});
      ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
      catalog_ = std::move(catalog).value();
      Result<std::string> hash = HashPassword(kPassword);
      ASSERT_TRUE(hash.ok());
      hash_ = *hash;
      AddUser("admin", "admin");
      AddUser("supervisor", "supervisor");
      AddUser("viewer", "viewer");
      AddUser("acme", "viewer", "acme");
      AddUser("acme_admin", "admin", "acme");
      AddUser("disabled", "admin", "", /*disabled=*/true);
    }
    if (server_) server_->Stop();
    if (!purger_) {
      purger_ = std::make_unique<storage::Purger>(storage::PurgerOptions{}, catalog_.get(),
                                                  recordings_store_.get(), RealClock(), &registry_);
    }
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(
        options, catalog_.get(), served_store_ ? served_store_ : recordings_store_.get(),
        &registry_,
        std::vector<ReadinessCheck>{
            {"recorder_flag", "recorder",
             [this] { return recorder_ready_ ? Status::Ok() : UnavailableError("spool full"); }},
        });
    server_->SetLifecycle(purger_.get(), retention_.get());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  int64_t AddUser(const std::string& name, const std::string& role, const std::string& tenant = "",
                  bool disabled = false) {
    catalog::User u;
    u.username = name;
    u.password_hash = hash_;
    u.role = role;
    u.tenant = tenant;
    u.disabled = disabled;
    u.created_ms = 1795600800000;
    Result<int64_t> id = catalog_->CreateUser(u);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  // A client authenticated as `user` (Basic); "" = no credentials.
  std::unique_ptr<httplib::Client> As(const std::string& user,
                                      const std::string& password = kPassword) {
    auto cli = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    cli->set_read_timeout(10, 0);
    if (!user.empty()) cli->set_basic_auth(user.c_str(), password.c_str());
    return cli;
  }
  std::unique_ptr<httplib::Client> WithToken(const std::string& token) {
    auto cli = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    cli->set_read_timeout(10, 0);
    cli->set_bearer_token_auth(token.c_str());
    return cli;
  }

  // A small stereo 8 kHz 16-bit WAV file of `data_bytes` PCM bytes (a ramp, so every range has
  // distinct content), written under the recordings dir at `relative`. Returns its bytes.
  std::string WriteWav(const std::string& relative, uint32_t data_bytes) {
    std::string wav = "RIFF";
    auto u32 = [&](uint32_t v) {
      for (int i = 0; i < 4; ++i) wav += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    auto u16 = [&](uint16_t v) {
      wav += static_cast<char>(v & 0xff);
      wav += static_cast<char>(v >> 8);
    };
    u32(36 + data_bytes);
    wav += "WAVEfmt ";
    u32(16);
    u16(1);
    u16(2);
    u32(8000);
    u32(8000 * 4);
    u16(4);
    u16(16);
    wav += "data";
    u32(data_bytes);
    for (uint32_t i = 0; i < data_bytes; ++i) wav += static_cast<char>((i * 7 + i / 251) & 0xff);
    std::filesystem::path path = std::filesystem::path(recordings_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << wav;
    return wav;
  }

  // Ingests a manifest for `spec`; when `wav_bytes` > 0 also writes its audio file (and the
  // manifest beside it, as the recorder does) with matching size and sha256.
  nlohmann::json Ingest(const catalog::testing::ManifestSpec& spec, uint32_t wav_bytes = 0) {
    nlohmann::json m = catalog::testing::MakeManifestJson(spec);
    if (wav_bytes > 0) {
      std::string wav = WriteWav(m["audio"]["file"].get<std::string>(), wav_bytes);
      m["audio"]["bytes"] = wav.size();
      m["audio"]["sha256"] = TokenHash(wav);  // hex SHA-256
      std::ofstream(recordings_ + "/" + m["audio"]["file"].get<std::string>() + ".json")
          << m.dump();
    }
    Status s = catalog_->IngestManifests({catalog::testing::ToManifest(m)});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return m;
  }

  static nlohmann::json Json(const httplib::Result& r) {
    if (!r) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  // The error code of a JSON error response ("" when it is not one).
  static std::string ErrorCode(const httplib::Result& r) {
    nlohmann::json j = Json(r);
    if (!j.is_object() || !j.contains("error")) return "";
    return j["error"].value("code", "");
  }

  std::string dir_, recordings_, hash_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<storage::LocalRecordingStore> recordings_store_;
  // Served by the next Start() instead of recordings_store_ when set (e.g. a decorator over it,
  // such as storage::DecryptingRecordingStore). Owned by the test; must outlive the server.
  storage::RecordingStore* served_store_ = nullptr;
  std::unique_ptr<storage::Purger> purger_;
  std::unique_ptr<retention::Retention> retention_;  // set by tests before Start()
  Registry registry_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> recorder_ready_{true};
};

}  // namespace callvault::http::testing
