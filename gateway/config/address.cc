#include "gateway/config/address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace lienthong::config {
namespace {

std::optional<int> ParsePort(absl::string_view port) {
  if (port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int value = 0;
  if (!absl::SimpleAtoi(port, &value) || value > 65535) return std::nullopt;
  return value;
}

bool IsHost(absl::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' &&
          c != '.') {
        return false;
      }
    }
    return true;
  }
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<HostPort> ParseHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return std::nullopt;
  const absl::string_view host = address.substr(0, colon);
  std::optional<int> port = ParsePort(address.substr(colon + 1));
  if (!port.has_value() || !IsHost(host)) return std::nullopt;
  return HostPort{std::string(host), *port};
}

}  // namespace lienthong::config
