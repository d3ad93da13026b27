// kVersion, the version `lienthong --version` prints and the CLI sends in its
// user agent.
#ifndef LIENTHONG_GATEWAY_CLI_VERSION_H_
#define LIENTHONG_GATEWAY_CLI_VERSION_H_

namespace lienthong::cli {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_VERSION_H_
