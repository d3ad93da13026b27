// Helpers for the checks of deploy/: running an outside tool (yamllint,
// systemd-analyze, haproxy) and reading its output, reading the systemd
// unit's settings and the credentials a config names, and a scratch
// credentials folder that holds what the deploy configs need, as systemd's
// LoadCredential= or a mounted Kubernetes Secret would.
#ifndef LIENTHONG_TESTS_DEPLOY_DEPLOY_TESTING_H_
#define LIENTHONG_TESTS_DEPLOY_DEPLOY_TESTING_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lienthong::deploy_testing {

// Returns the absolute path of the program `name` found in $PATH, else in
// /usr/sbin or /sbin (where haproxy lives, outside a user's PATH), or ""
// when it is not installed.
std::string FindTool(const std::string& name);

struct ToolRun {
  int exit_code = -1;  // the exit status, or 128 + signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs `argv` (argv[0] an absolute path) in this process's environment
// with `extra_env` ("NAME=value") added or replacing, and waits for it to
// exit. Fails
// with DEADLINE_EXCEEDED (after killing it) when it runs past `timeout`,
// INTERNAL when it cannot be started. Thread-safe as long as nothing
// modifies the environment concurrently.
absl::StatusOr<ToolRun> RunTool(const std::vector<std::string>& argv,
                                const std::vector<std::string>& extra_env = {},
                                absl::Duration timeout = absl::Seconds(120));

// The whole file at `path`, or "" when it cannot be read.
std::string ReadFile(const std::string& path);
// Writes `contents` to `path`; false on failure.
bool WriteFile(const std::string& path, const std::string& contents);

// The settings of `section` ("Service") of a systemd unit, by key, in the
// order written (LoadCredential= appears once per line). Comments, blank
// lines and other sections are skipped; no line continuations.
std::multimap<std::string, std::string> UnitSection(
    const std::string& unit_text, const std::string& section);

// The credential names a gateway config reads: NAME in
// `${CREDENTIALS_DIRECTORY}/NAME` (a file) and in `${credential:NAME}`.
std::set<std::string> CredentialsNamedIn(const std::string& config_text);
// The environment variables `${NAME}` a config reads (not credentials).
std::set<std::string> VariablesNamedIn(const std::string& config_text);

// Fills `folder` with a file for each of `names`: the development
// certificates for tls.pem, tls.key and client-ca.pem (gateway.pem,
// gateway.key, ca.pem), audit keys made by `lienthong audit keygen` for
// audit-signing.pem, audit-hmac.key and audit-digest.key, 32 bytes for
// outbox.key, and "test-NAME\n" for anything else (an API secret). Returns INTERNAL naming what failed.
absl::Status FillCredentials(const std::string& folder,
                             const std::set<std::string>& names);

}  // namespace lienthong::deploy_testing

#endif  // LIENTHONG_TESTS_DEPLOY_DEPLOY_TESTING_H_
