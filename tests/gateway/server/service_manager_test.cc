// NotifyServiceManager against a datagram socket of our own, as systemd
// listens on $NOTIFY_SOCKET: path and abstract addresses, nobody to tell,
// and a socket name that is wrong.
#include "gateway/server/service_manager.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::server {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

// A bound datagram socket standing in for the service manager.
class FakeServiceManager {
 public:
  // `name` as NOTIFY_SOCKET spells it: a path or "@abstract".
  explicit FakeServiceManager(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    socklen_t length = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      address.sun_path[0] = '\0';
    } else {
      ::unlink(name.c_str());
      ++length;
    }
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0;
  }
  ~FakeServiceManager() {
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }

  bool bound() const { return bound_; }

  // The next datagram, or "" when none comes within a second.
  std::string Receive() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return "";
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, n) : "";
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

class ServiceManagerTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("NOTIFY_SOCKET"); }
};

TEST_F(ServiceManagerTest, SendsTheStateToAPathSocket) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/notify-", getpid());
  FakeServiceManager manager(path);
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_THAT(NotifyServiceManager("READY=1\nSTATUS=serving on port 8443"),
              IsOk());
  EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=serving on port 8443");
  EXPECT_THAT(NotifyServiceManager("STOPPING=1"), IsOk());
  EXPECT_EQ(manager.Receive(), "STOPPING=1");
}

TEST_F(ServiceManagerTest, SendsTheStateToAnAbstractSocket) {
  const std::string name = absl::StrCat("@lienthong-notify-test-", getpid());
  FakeServiceManager manager(name);
  ASSERT_TRUE(manager.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  EXPECT_THAT(NotifyServiceManager("RELOADING=1"), IsOk());
  EXPECT_EQ(manager.Receive(), "RELOADING=1");
}

TEST_F(ServiceManagerTest, NothingToTellWithoutAServiceManager) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_THAT(NotifyServiceManager("READY=1"), IsOk());
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_THAT(NotifyServiceManager("READY=1"), IsOk());
}

TEST_F(ServiceManagerTest, RefusesASocketNameItCannotUse) {
  const char* const kMalformed[] = {"relative/path", "@", "/", "vsock:2:1234"};
  for (const char* name : kMalformed) {
    ::setenv("NOTIFY_SOCKET", name, 1);
    EXPECT_THAT(NotifyServiceManager("READY=1"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("NOTIFY_SOCKET must be")))
        << name;
  }
  const std::string too_long = "/" + std::string(200, 'x');
  ::setenv("NOTIFY_SOCKET", too_long.c_str(), 1);
  EXPECT_THAT(NotifyServiceManager("READY=1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fits")));
}

TEST_F(ServiceManagerTest, NobodyListeningIsUnavailableAndNamesNoPath) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/no-such-notify-socket-", getpid());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  absl::Status status = NotifyServiceManager("READY=1");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("cannot notify the service manager")));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr(path)));
}

}  // namespace
}  // namespace lienthong::server
