#include "tests/deploy/deploy_testing.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_certs.h"

namespace lienthong::deploy_testing {

std::string FindTool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> folders =
      absl::StrSplit(path == nullptr ? "" : path, ':', absl::SkipEmpty());
  folders.push_back("/usr/sbin");
  folders.push_back("/sbin");
  for (const std::string& folder : folders) {
    const std::string candidate = absl::StrCat(folder, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

absl::StatusOr<ToolRun> RunTool(const std::vector<std::string>& argv,
                                const std::vector<std::string>& extra_env,
                                absl::Duration timeout) {
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::set<std::string> replaced;
  for (const std::string& e : extra_env)
    replaced.insert(e.substr(0, e.find('=')));
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const absl::string_view entry(*e);
    if (replaced.count(std::string(entry.substr(0, entry.find('=')))) == 0) {
      env.push_back(*e);
    }
  }
  for (const std::string& e : extra_env)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(args[0], args.data(), env.data());
    _exit(127);
  }
  ::close(fds[1]);
  ToolRun run;
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  for (;;) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) break;
    run.output.append(chunk, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(argv[0], " ran past ", absl::FormatDuration(timeout)));
  }
  run.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::string ReadFile(const std::string& path) {
  return testing::ReadFileOrEmpty(path);
}

bool WriteFile(const std::string& path, const std::string& contents) {
  // Private, as systemd's credentials and the unit's state are.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return false;
  const bool ok = ::write(fd, contents.data(), contents.size()) ==
                  static_cast<ssize_t>(contents.size());
  return ::close(fd) == 0 && ok;
}

std::multimap<std::string, std::string> UnitSection(
    const std::string& unit_text, const std::string& section) {
  std::multimap<std::string, std::string> settings;
  std::string current;
  for (absl::string_view line : absl::StrSplit(unit_text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    if (current != section) continue;
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    settings.emplace(
        std::string(absl::StripAsciiWhitespace(line.substr(0, equals))),
        std::string(absl::StripAsciiWhitespace(line.substr(equals + 1))));
  }
  return settings;
}

namespace {

std::set<std::string> Matches(const std::string& text, const std::regex& re) {
  std::set<std::string> found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
       it != std::sregex_iterator(); ++it) {
    found.insert((*it)[1].str());
  }
  return found;
}

// The config's text without its comments (a '#' after a space or at the
// start of a line), so that examples in comments are not counted.
std::string WithoutComments(const std::string& config_text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(config_text, '\n')) {
    size_t hash = line.find('#');
    while (hash != absl::string_view::npos && hash > 0 &&
           line[hash - 1] != ' ') {
      hash = line.find('#', hash + 1);
    }
    absl::StrAppend(&out, line.substr(0, hash), "\n");
  }
  return out;
}

}  // namespace

std::set<std::string> CredentialsNamedIn(const std::string& config_text) {
  const std::string text = WithoutComments(config_text);
  std::set<std::string> names = Matches(
      text, std::regex(R"(\$\{CREDENTIALS_DIRECTORY\}/([A-Za-z0-9_.\-]+))"));
  for (const std::string& name :
       Matches(text, std::regex(R"(\$\{credential:([A-Za-z0-9_.\-]+)\})"))) {
    names.insert(name);
  }
  return names;
}

std::set<std::string> VariablesNamedIn(const std::string& config_text) {
  return Matches(WithoutComments(config_text),
                 std::regex(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})"));
}

absl::Status FillCredentials(const std::string& folder,
                             const std::set<std::string>& names) {
  const std::map<std::string, std::string> kCertificates = {
      {"tls.pem", "gateway.pem"},
      {"tls.key", "gateway.key"},
      {"client-ca.pem", "ca.pem"}};
  // Made together by `lienthong audit keygen`.
  const std::set<std::string> kAuditKeys = {
      "audit-signing.pem", "audit-hmac.key", "audit-digest.key"};
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(folder, "/", name);
    if (auto it = kCertificates.find(name); it != kCertificates.end()) {
      if (!WriteFile(path, ReadFile(testing::TestCert(it->second)))) {
        return absl::InternalError(absl::StrCat("cannot write ", path));
      }
    } else if (name == "outbox.key") {  // 32 raw bytes, any will do
      if (!WriteFile(path, std::string(32, '\x5a'))) {
        return absl::InternalError(absl::StrCat("cannot write ", path));
      }
    } else if (name == "admin.token") {  // as openssl rand -hex 32 makes
      if (!WriteFile(path, std::string(64, 'e') + "\n")) {
        return absl::InternalError(absl::StrCat("cannot write ", path));
      }
    } else if (kAuditKeys.count(name) == 0) {
      if (!WriteFile(path, absl::StrCat("test-", name, "\n"))) {
        return absl::InternalError(absl::StrCat("cannot write ", path));
      }
    }
  }
  if (std::any_of(
          kAuditKeys.begin(), kAuditKeys.end(),
          [&](const std::string& key) { return names.count(key) > 0; })) {
    auto keygen =
        RunTool({testing::BinaryPath("gateway/cli/lienthong"), "audit",
                 "keygen", "--signing-key", folder + "/audit-signing.pem",
                 "--hmac-key", folder + "/audit-hmac.key", "--digest-key",
                 folder + "/audit-digest.key"});
    if (!keygen.ok() || keygen->exit_code != 0) {
      return absl::InternalError(absl::StrCat(
          "lienthong audit keygen failed: ",
          keygen.ok() ? keygen->output : keygen.status().ToString()));
    }
  }
  return absl::OkStatus();
}

}  // namespace lienthong::deploy_testing
