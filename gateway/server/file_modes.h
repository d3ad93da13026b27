// Secret and trust files must be kept from others: the gateway refuses to
// start (or to reload) when a key file its config names (the listener's TLS
// key, the audit keys, an adapter's client key, the admin bearer token:
// every `*key_file` and `*token_file` field, adapter configs included) can
// be read or written by the file's group or by others; when a trust file
// (the client CA and CRL, every adapter's upstream CA: every `*ca_file` and
// `*crl_file` field) can be written by them, as it is re-read while the
// gateway runs; or when the config file itself (the trust root: pins,
// policy) can be written by them. Trust files and the config may be
// readable: they are public, the Debian package installs the config 0644
// and a Kubernetes ConfigMap mounts it so; secrets in it are written as
// ${credential:ID} or ${ENV_VAR}. `--allow-insecure-file-modes` turns the
// refusal into a warning, for development keys checked out of a repository.
#ifndef LIENTHONG_GATEWAY_SERVER_FILE_MODES_H_
#define LIENTHONG_GATEWAY_SERVER_FILE_MODES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::server {

// Returns (field path, file) for every non-empty string field of `config`
// whose name ends in "key_file" or "token_file", at any depth, including
// the adapter configs packed in google.protobuf.Any. Thread-safe.
std::vector<std::pair<std::string, std::string>> SecretFiles(
    const lienthong::config::v1::GatewayConfig& config);

// Returns (field path, file) for every non-empty string field of `config`
// whose name ends in "ca_file" or "crl_file" (CA bundles and CRLs, which
// decide whom the gateway trusts), found as SecretFiles finds its files.
// Thread-safe.
std::vector<std::pair<std::string, std::string>> TrustFiles(
    const lienthong::config::v1::GatewayConfig& config);

// Returns OK when the file at `path` gives its group and others no access
// (mode & 077 == 0, following symlinks), or is owned by root, of one of the
// process's groups, readable by that group and writable by nobody (0440: a
// Kubernetes Secret under the pod's fsGroup), or does not exist (whoever
// reads it reports that); otherwise FAILED_PRECONDITION naming `what`, the file
// and its mode, and how to fix it. Thread-safe.
absl::Status CheckPrivateFile(absl::string_view what, const std::string& path);

// Like CheckPrivateFile, but only writing by the group or others
// (mode & 022) is refused. Thread-safe.
absl::Status CheckNotWritableByOthers(absl::string_view what,
                                      const std::string& path);

// Checks that the config file at `config_path` and every TrustFiles()
// entry are not writable by others (CheckNotWritableByOthers) and that
// every SecretFiles() entry is private (CheckPrivateFile); returns OK or
// FAILED_PRECONDITION listing every loose file, one a line, each named by
// its config field and path (never its contents). Thread-safe.
absl::Status CheckSecretFileModes(
    const std::string& config_path,
    const lienthong::config::v1::GatewayConfig& config);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_FILE_MODES_H_
