// Internal to CheckManifests (manifest_check.h): safe access to parsed
// manifests (a missing or mistyped field reads as absent, never throws),
// the objects indexed by kind and name, the pods of each workload, and the
// list of problems found.
#ifndef LIENTHONG_TESTS_DEPLOY_MANIFEST_INDEX_H_
#define LIENTHONG_TESTS_DEPLOY_MANIFEST_INDEX_H_

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/deploy/manifest_check.h"

namespace lienthong::deploy_testing {

// `n`'s child `key`, or an undefined node (IsDefined() false, safe to ask
// and to assign) when `n` is no map or lacks it.
YAML::Node Child(const YAML::Node& n, const std::string& key);
inline YAML::Node At(const YAML::Node& n) { return n; }
// At(doc, "spec", "template", "spec"): Child() along the path.
template <typename... Keys>
YAML::Node At(const YAML::Node& n, const std::string& key,
              const Keys&... rest) {
  return At(Child(n, key), rest...);
}
// A scalar's text, else "".
std::string Str(const YAML::Node& n);
// A sequence's elements, else none.
std::vector<YAML::Node> Items(const YAML::Node& n);
// A sequence's scalars.
std::set<std::string> Strings(const YAML::Node& n);
// A map of scalars (labels, selectors).
std::map<std::string, std::string> Labels(const YAML::Node& n);
// True when `selector` is not empty and every pair is in `labels`.
bool Selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels);
// A Kubernetes memory quantity ("128Mi", "1Gi", "500M", "1024") in bytes,
// or -1 when it is none.
double Bytes(const std::string& quantity);

struct Object {
  const Manifest* manifest;
  YAML::Node doc;
  std::string kind;
  std::string name;
};

// The keys of a Secret (data and stringData).
std::set<std::string> SecretKeys(const Object& secret);

struct Container {
  std::string name;
  YAML::Node node;
  // The number of the port `port` names (a number, or a declared port's
  // name) if the container declares it; else -1.
  int PortNumber(const YAML::Node& port) const;
};

// The pods of a StatefulSet or Deployment.
struct Workload {
  std::map<std::string, std::string> selector;
  std::map<std::string, std::string> pod_labels;
  YAML::Node pod_spec;
  int replicas = 1;
  std::vector<Container> containers;
  std::map<std::string, YAML::Node> volumes;  // by name
  std::set<std::string> claim_templates;      // volumeClaimTemplates' names
};

class Index {
 public:
  explicit Index(const std::vector<Manifest>& manifests);

  const std::vector<Object>& objects() const { return objects_; }
  // The object of `kind` named `name`, or nullptr.
  const Object* Find(const std::string& kind, const std::string& name) const;
  // The pods of `o` when it is a workload, else nullptr.
  const Workload* WorkloadOf(const Object& o) const;
  // The first workload whose pods `selector` selects, or nullptr.
  const Workload* WorkloadSelectedBy(
      const std::map<std::string, std::string>& selector) const;

 private:
  std::vector<Object> objects_;
  std::map<size_t, Workload> workloads_;  // by index in objects_
};

struct Problems {
  std::vector<std::string> lines;
  void Add(const Object& o, absl::string_view what);
};

// The gateway config's agreement with the pod that mounts it (see
// manifest_check.h); in pod_config_check.cc.
void CheckGatewayConfig(const Object& o, const Workload& w, const Index& index,
                        Problems& problems);

}  // namespace lienthong::deploy_testing

#endif  // LIENTHONG_TESTS_DEPLOY_MANIFEST_INDEX_H_
