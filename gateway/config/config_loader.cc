#include "gateway/config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/config/config_validation.h"
#include "gateway/config/yaml_to_proto.h"

namespace lienthong::config {
namespace {

using lienthong::config::v1::GatewayConfig;

// A config is a few kilobytes; anything this large is the wrong file.
constexpr off_t kMaxConfigBytes = 4 << 20;

absl::Status ReadError(const std::string& path, int error_number) {
  return absl::Status(
      absl::ErrnoToStatusCode(error_number),
      absl::StrCat(
          "cannot read config file '", path, "': ",
          std::error_code(error_number, std::generic_category()).message()));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ReadError(path, errno);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat info;
  if (fstat(fd, &info) != 0) return ReadError(path, errno);
  if (S_ISDIR(info.st_mode)) return ReadError(path, EISDIR);
  if (S_ISREG(info.st_mode) && info.st_size > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file '", path, "' is larger than ",
                     kMaxConfigBytes >> 20, " MiB; is it the right file?"));
  }
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ReadError(path, errno);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > static_cast<size_t>(kMaxConfigBytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config file '", path, "' is larger than ",
                       kMaxConfigBytes >> 20, " MiB; is it the right file?"));
    }
  }
  return contents;
}

// The directory holding `path`, absolute so that relative `*_file` paths
// stay right whatever the working directory later is.
std::string AbsoluteDirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  std::string dir;
  if (slash != std::string::npos) dir = path.substr(0, slash == 0 ? 1 : slash);
  if (!dir.empty() && dir[0] == '/') return dir;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return dir.empty() ? "." : dir;
  return dir.empty() ? std::string(cwd) : absl::StrCat(cwd, "/", dir);
}

absl::StatusOr<GatewayConfig> Parse(absl::string_view yaml,
                                    absl::string_view source_name,
                                    absl::string_view base_dir,
                                    const AdapterConfigResolver& resolver,
                                    internal::PositionMap* positions) {
  internal::YamlToProtoOptions options;
  options.source_name = std::string(source_name);
  options.base_dir = std::string(base_dir);
  options.any_resolver = resolver;
  GatewayConfig config;
  absl::Status status =
      internal::ParseYamlIntoMessage(yaml, options, &config, positions);
  if (!status.ok()) return status;
  return config;
}

}  // namespace

absl::StatusOr<GatewayConfig> ParseConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver) {
  return Parse(yaml, source_name, base_dir, resolver, nullptr);
}

absl::StatusOr<GatewayConfig> LoadConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver,
    ConfigPositions* positions) {
  internal::PositionMap parsed_positions;
  absl::StatusOr<GatewayConfig> config =
      Parse(yaml, source_name, base_dir, resolver, &parsed_positions);
  if (!config.ok()) return config;
  ConfigPositions::Map map;
  for (const auto& [path, at] : parsed_positions) {
    map.emplace(path, std::make_pair(at.line, at.column));
  }
  ConfigPositions located(std::string(source_name), std::move(map));
  std::vector<internal::ConfigProblem> problems =
      internal::CheckConfig(*config, resolver);
  if (problems.empty()) {
    if (positions != nullptr) *positions = std::move(located);
    return config;
  }
  std::vector<std::string> lines;
  for (const auto& problem : problems) {
    lines.push_back(absl::StrCat(located.Where(problem.path), ": ",
                                 problem.path, ": ", problem.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

std::string ConfigPositions::Where(std::string path) const {
  while (!path.empty()) {
    if (auto it = positions_.find(path); it != positions_.end()) {
      return absl::StrCat(source_, ":", it->second.first, ":",
                          it->second.second);
    }
    const size_t cut = path.back() == ']' ? path.rfind('[') : path.rfind('.');
    path.resize(cut == std::string::npos ? 0 : cut);
  }
  return source_;
}

absl::Status ConfigPositions::Locate(const absl::Status& status) const {
  std::optional<std::string> field = ConfigFieldOf(status);
  if (status.ok() || !field.has_value()) return status;
  absl::Status located(status.code(), absl::StrCat(Where(*field), ": ",
                                                   status.message()));
  status.ForEachPayload(
      [&located](absl::string_view type_url, const absl::Cord& payload) {
        located.SetPayload(type_url, payload);
      });
  return located;
}

absl::StatusOr<GatewayConfig> LoadConfigFile(
    const std::string& path, const AdapterConfigResolver& resolver,
    ConfigPositions* positions) {
  absl::StatusOr<std::string> yaml = ReadFile(path);
  if (!yaml.ok()) return yaml.status();
  return LoadConfigYaml(*yaml, path, AbsoluteDirectoryOf(path), resolver,
                        positions);
}

}  // namespace lienthong::config
