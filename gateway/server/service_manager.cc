#include "gateway/server/service_manager.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace lienthong::server {

absl::Status NotifyServiceManager(absl::string_view state) {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr || socket_name[0] == '\0') {
    return absl::OkStatus();
  }
  const std::string name(socket_name);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((name[0] != '/' && name[0] != '@') || name.size() < 2 ||
      name.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        "NOTIFY_SOCKET must be a socket path or @name that fits a socket "
        "address");
  }
  std::memcpy(address.sun_path, name.data(), name.size());
  // "@name" is in the abstract namespace: a NUL where the '@' was, and the
  // address is exactly as long as the name (no terminating NUL).
  if (name[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(
      offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '/' ? 1 : 0));

  const int fd =
      ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot make the service manager's socket: ", std::strerror(errno)));
  }
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  const int error = errno;
  ::close(fd);
  if (sent < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot notify the service manager: ", std::strerror(error)));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::server
