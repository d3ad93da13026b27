// "host:port" addresses in the config (listener.address, admin.address):
// the one parser that validation and the daemon both use.
#ifndef LIENTHONG_GATEWAY_CONFIG_ADDRESS_H_
#define LIENTHONG_GATEWAY_CONFIG_ADDRESS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::config {

struct HostPort {
  std::string host;  // a name, an IPv4 address, or "[ipv6]" with brackets
  int port = 0;      // 0..65535; 0 asks for a free port
};

// Returns the parts of "host:port" (host a name or IPv4 address, or
// "[ipv6]:port"), or nullopt when `address` is not shaped so. Thread-safe.
std::optional<HostPort> ParseHostPort(absl::string_view address);

}  // namespace lienthong::config

#endif  // LIENTHONG_GATEWAY_CONFIG_ADDRESS_H_
