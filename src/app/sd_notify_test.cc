#include "app/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace callvault::app {
namespace {

// A datagram socket standing in for systemd's notify socket; `name` starting with '@' is bound
// in the abstract namespace.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      ::unlink(name.c_str());
      len += 1;
    }
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  }
  ~FakeSystemd() {
    ::close(fd_);
    if (name_[0] != '@') ::unlink(name_.c_str());
  }
  std::string Receive() {
    char buf[512];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string name_;
  int fd_;
};

TEST(SystemdNotifierTest, SendsToAPathSocket) {
  std::string path = ::testing::TempDir() + "/notify-" + std::to_string(::getpid());
  FakeSystemd systemd(path);
  SystemdNotifier notifier(path);
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Send("READY=1\nSTATUS=recording").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=recording");
  ASSERT_TRUE(notifier.Send("STOPPING=1").ok());
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
}

TEST(SystemdNotifierTest, SendsToAnAbstractSocket) {
  std::string name = "@callvault-notify-test-" + std::to_string(::getpid());
  FakeSystemd systemd(name);
  SystemdNotifier notifier(name);
  ASSERT_TRUE(notifier.Send("READY=1").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1");
}

TEST(SystemdNotifierTest, DisabledWithoutSocketSendsNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.Send("READY=1").ok());
}

TEST(SystemdNotifierTest, ReadsTheEnvironment) {
  std::string path = ::testing::TempDir() + "/notify-env-" + std::to_string(::getpid());
  FakeSystemd systemd(path);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  SystemdNotifier notifier;
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(notifier.Send("READY=1").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1");
}

TEST(SystemdNotifierTest, AMissingSocketIsAnErrorNamingIt) {
  SystemdNotifier notifier("/nonexistent/notify");
  Status s = notifier.Send("READY=1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("/nonexistent/notify"), std::string::npos);
}

TEST(SystemdNotifierTest, IgnoresOtherAddressFamilies) {
  EXPECT_FALSE(SystemdNotifier("vsock:2:1234").enabled());
}

}  // namespace
}  // namespace callvault::app
