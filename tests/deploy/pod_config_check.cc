// CheckGatewayConfig (manifest_index.h): the gateway config a pod mounts
// against the pod: ports, environment, credentials and persistent state.
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/deploy/deploy_testing.h"
#include "tests/deploy/manifest_index.h"

namespace lienthong::deploy_testing {
namespace {

// The path after --config in the container's command or args, or "".
std::string ConfigPath(const Container& c) {
  std::vector<std::string> words;
  for (const char* list : {"command", "args"}) {
    for (const YAML::Node& word : Items(At(c.node, list))) {
      words.push_back(Str(word));
    }
  }
  for (size_t i = 0; i < words.size(); ++i) {
    if (absl::StartsWith(words[i], "--config=")) return words[i].substr(9);
    if (words[i] == "--config" && i + 1 < words.size()) return words[i + 1];
  }
  return "";
}

// The volume mounted at exactly `path` in `c`, or an undefined node.
YAML::Node VolumeAt(const Workload& w, const Container& c,
                    const std::string& path, std::string* name = nullptr) {
  for (const YAML::Node& mount : Items(At(c.node, "volumeMounts"))) {
    if (Str(At(mount, "mountPath")) != path) continue;
    if (name != nullptr) *name = Str(At(mount, "name"));
    auto it = w.volumes.find(Str(At(mount, "name")));
    if (it != w.volumes.end()) return it->second;
    // A volumeClaimTemplate: defined, but with nothing to look into.
    return YAML::Node(YAML::NodeType::Map);
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// The file names in a secret or projected volume.
std::set<std::string> FilesOf(const YAML::Node& volume, const Index& index) {
  std::vector<YAML::Node> sources;
  if (At(volume, "secret").IsDefined()) sources.push_back(At(volume, "secret"));
  for (const YAML::Node& source : Items(At(volume, "projected", "sources"))) {
    sources.push_back(At(source, "secret"));
  }
  std::set<std::string> files;
  for (const YAML::Node& ref : sources) {
    if (!Items(At(ref, "items")).empty()) {
      for (const YAML::Node& item : Items(At(ref, "items"))) {
        files.insert(Str(At(item, "path")));
      }
      continue;
    }
    const std::string name = Str(At(ref, "name")).empty()
                                 ? Str(At(ref, "secretName"))
                                 : Str(At(ref, "name"));
    if (const Object* secret = index.Find("Secret", name); secret != nullptr) {
      for (const std::string& key : SecretKeys(*secret)) files.insert(key);
    }
  }
  return files;
}

// The port of "host:port", or "".
std::string PortOf(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? "" : address.substr(colon + 1);
}

bool IsLoopback(const std::string& address) {
  return absl::StartsWith(address, "127.") ||
         absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:");
}

// Ports the container's probes reach over HTTP.
std::set<int> ProbedPorts(const Container& c) {
  std::set<int> ports;
  for (const char* probe :
       {"startupProbe", "livenessProbe", "readinessProbe"}) {
    const YAML::Node http = At(c.node, probe, "httpGet");
    if (http.IsDefined()) ports.insert(c.PortNumber(At(http, "port")));
  }
  return ports;
}

struct PodConfig {
  const Object& o;
  const Workload& w;
  const Container& c;
  const Index& index;
  YAML::Node config;
  std::string text;
  std::map<std::string, std::string> env;  // valueFrom: "" (set, unknown)
  Problems& problems;

  void Add(absl::string_view what) {
    problems.Add(o, absl::StrCat("container '", c.name, "': ", what));
  }

  void CheckPorts() {
    const std::string listener = Str(At(config, "listener", "address"));
    if (c.PortNumber(YAML::Node(PortOf(listener))) < 0) {
      Add(absl::StrCat("the config's listener.address '", listener,
                       "' is on no container port"));
    }
    if (Str(At(config, "admin", "disabled")) == "true") return;
    std::string admin = Str(At(config, "admin", "address"));
    if (admin.empty()) admin = "127.0.0.1:9464";
    const int admin_port = c.PortNumber(YAML::Node(PortOf(admin)));
    if (admin_port > 0 && ProbedPorts(c).count(admin_port) &&
        IsLoopback(admin)) {
      Add(
          absl::StrCat("probes reach the admin port, but the config's "
                       "admin.address '",
                       admin, "' is loopback"));
    }
    if (admin_port < 0 && !IsLoopback(admin)) {
      Add(absl::StrCat("the config's admin.address '", admin,
                       "' is on no container port"));
    }
  }

  void CheckEnvironment() {
    for (const std::string& name : VariablesNamedIn(text)) {
      if (!env.count(name)) {
        Add(absl::StrCat("the config reads ${", name,
                         "}, which the container's env does not set"));
      }
    }
  }

  void CheckCredentials() {
    const std::set<std::string> names = CredentialsNamedIn(text);
    if (names.empty()) return;
    auto dir = env.find("CREDENTIALS_DIRECTORY");
    const YAML::Node volume = dir == env.end()
                                  ? YAML::Node(YAML::NodeType::Undefined)
                                  : VolumeAt(w, c, dir->second);
    if (dir == env.end() || !volume.IsDefined()) {
      Add("CREDENTIALS_DIRECTORY names no mounted volume");
      return;
    }
    const std::set<std::string> files = FilesOf(volume, index);
    for (const std::string& name : names) {
      if (!files.count(name)) {
        Add(absl::StrCat(
            "credential '", name,
            "' is no file of the volume at CREDENTIALS_DIRECTORY"));
      }
    }
  }

  // The files the gateway writes must outlive the pod.
  void CheckPersistence() {
    std::map<std::string, std::string> substitutions;
    for (const auto& [name, value] : env) {
      substitutions[absl::StrCat("${", name, "}")] = value;
    }
    for (const auto& [field, node] :
         {std::pair<const char*, YAML::Node>{"audit.store_file",
                                             At(config, "audit", "store_file")},
          {"portal_sync.outbox_file",
           At(config, "portal_sync", "outbox_file")}}) {
      const std::string path = absl::StrReplaceAll(Str(node), substitutions);
      if (Str(node).empty() &&
          field == std::string("portal_sync.outbox_file") &&
          Str(At(config, "portal_sync", "adapter")).empty()) {
        continue;  // no portal synchronisation, no outbox
      }
      if (!OnClaim(path)) {
        Add(absl::StrCat(field, " '", Str(node),
                         "' is not on a volumeClaimTemplate's volume: a "
                         "replaced pod would lose it"));
      }
    }
  }

  bool OnClaim(const std::string& path) const {
    for (const YAML::Node& mount : Items(At(c.node, "volumeMounts"))) {
      const std::string prefix = Str(At(mount, "mountPath")) + "/";
      if (absl::StartsWith(path, prefix) &&
          w.claim_templates.count(Str(At(mount, "name")))) {
        return true;
      }
    }
    return false;
  }
};

}  // namespace

void CheckGatewayConfig(const Object& o, const Workload& w, const Index& index,
                        Problems& problems) {
  for (const Container& c : w.containers) {
    const std::string path = ConfigPath(c);
    if (path.empty()) continue;
    const size_t slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string file = path.substr(slash + 1);
    const YAML::Node volume = VolumeAt(w, c, dir);
    const Object* map =
        index.Find("ConfigMap", Str(At(volume, "configMap", "name")));
    const std::string text =
        map == nullptr ? "" : Str(At(map->doc, "data", file));
    if (text.empty()) {
      problems.Add(o,
                   absl::StrCat("container '", c.name, "': --config ", path,
                                " is no key of a ConfigMap mounted at ", dir));
      continue;
    }
    PodConfig check{o, w, c, index, YAML::Node(), text, {}, problems};
    try {
      check.config = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      check.Add(absl::StrCat("the config does not parse: ", e.what()));
      continue;
    }
    for (const YAML::Node& var : Items(At(c.node, "env"))) {
      check.env[Str(At(var, "name"))] = Str(At(var, "value"));
    }
    check.CheckPorts();
    check.CheckEnvironment();
    check.CheckCredentials();
    check.CheckPersistence();
  }
}

}  // namespace lienthong::deploy_testing
