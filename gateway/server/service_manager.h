// NotifyServiceManager: tells systemd (or any service manager speaking the
// sd_notify protocol) what the gateway is doing, so that a unit with
// Type=notify counts as started only once the gateway listens. Written
// against the protocol (one datagram to the AF_UNIX socket named by
// $NOTIFY_SOCKET, see sd_notify(3)) rather than libsystemd, which would be
// a build and runtime dependency for one sendto().
#ifndef LIENTHONG_GATEWAY_SERVER_SERVICE_MANAGER_H_
#define LIENTHONG_GATEWAY_SERVER_SERVICE_MANAGER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::server {

// Sends `state` (newline-separated assignments such as "READY=1",
// "RELOADING=1", "STOPPING=1", "STATUS=...") to the socket named by
// $NOTIFY_SOCKET: a file path, or "@name" for an abstract socket.
//
// Returns OK when the datagram was sent, and also when NOTIFY_SOCKET is
// unset or empty (not started by a service manager: nothing to tell).
// Fails with INVALID_ARGUMENT when NOTIFY_SOCKET is neither a path nor
// "@name" or is too long for a socket address, and UNAVAILABLE when the
// socket cannot be made or the datagram not sent (the message says why,
// never names the socket). Never blocks for long: the datagram socket is
// non-blocking.
//
// Thread-safe as long as nothing modifies the environment (setenv)
// concurrently.
absl::Status NotifyServiceManager(absl::string_view state);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_SERVICE_MANAGER_H_
