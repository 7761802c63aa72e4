// S3ServerTest: the gtest base of the suites that run against the local S3 server — one server
// per suite (started in SetUpTestSuite), restarted before each test (a test may have stopped
// it for an outage), its objects kept across the suite's tests (give each test its own keys or
// prefix). A server that cannot start fails every test in SetUp with the reason (the tooling
// hint of S3Server::Start), never skips.
//
// Test-only. Thread-safety: gtest's (one test at a time).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/status.h"
#include "storage/s3/client.h"
#include "storage/testing/s3_server.h"

namespace callvault::storage::testing {

class S3ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<S3Server>> s = S3Server::Start();
    start_status_ = new Status(s.status());
    if (s.ok()) server_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete start_status_;
    start_status_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << start_status_->ToString();
    ASSERT_TRUE(server_->Restart().ok());
  }

  // A client of the server with `options` (start from server_->ClientOptions()); null (and a
  // test failure) when it cannot be made.
  static std::unique_ptr<s3::Client> NewClient(const s3::S3Options& options) {
    Result<std::unique_ptr<s3::Client>> c = s3::Client::Create(options);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  // "<prefix>-<this test's name>/": keys of their own for each test.
  static std::string TestPrefix(const std::string& prefix) {
    return prefix + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  static inline S3Server* server_ = nullptr;
  static inline Status* start_status_ = nullptr;
};

}  // namespace callvault::storage::testing
