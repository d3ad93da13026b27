#include "tests/deploy/manifest_check.h"

#include <map>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/deploy/manifest_index.h"

namespace lienthong::deploy_testing {
namespace {

const std::map<std::string, std::string>& ApiVersions() {
  static const auto* const kVersions = new std::map<std::string, std::string>{
      {"Namespace", "v1"},
      {"ServiceAccount", "v1"},
      {"ConfigMap", "v1"},
      {"Secret", "v1"},
      {"Service", "v1"},
      {"StatefulSet", "apps/v1"},
      {"Deployment", "apps/v1"},
      {"PodDisruptionBudget", "policy/v1"},
      {"NetworkPolicy", "networking.k8s.io/v1"}};
  return *kVersions;
}

// What the gateway's admin endpoint serves (gateway/admin/admin_server.h).
const std::set<std::string>& ServedPaths() {
  static const auto* const kPaths =
      new std::set<std::string>{"/healthz", "/readyz", "/metrics"};
  return *kPaths;
}

bool IsDnsLabel(const std::string& name) {
  static const std::regex kLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return name.size() <= 63 && std::regex_match(name, kLabel);
}

void CheckObject(const Object& o, const std::string& namespace_name,
                 Problems& problems) {
  auto version = ApiVersions().find(o.kind);
  if (version == ApiVersions().end()) {
    problems.Add(
        o, absl::StrCat("kind '", o.kind, "' is not one this check knows"));
  } else if (Str(At(o.doc, "apiVersion")) != version->second) {
    problems.Add(o, absl::StrCat("apiVersion must be ", version->second));
  }
  if (!IsDnsLabel(o.name)) {
    problems.Add(o, "metadata.name must be a DNS-1123 label");
  }
  if (o.kind != "Namespace" && !namespace_name.empty() &&
      Str(At(o.doc, "metadata", "namespace")) != namespace_name) {
    problems.Add(
        o, absl::StrCat("metadata.namespace must be '", namespace_name, "'"));
  }
}

void CheckProbe(const Object& o, const Container& c, const char* name,
                bool required, Problems& problems) {
  const YAML::Node probe = At(c.node, name);
  const std::string where = absl::StrCat("container '", c.name, "' ", name);
  if (!probe.IsDefined()) {
    if (required) problems.Add(o, absl::StrCat(where, " is missing"));
    return;
  }
  if (At(probe, "grpc").IsDefined()) {
    problems.Add(o,
                 absl::StrCat(where,
                              " is a gRPC probe: the kubelet cannot present "
                              "the client certificate the listener requires"));
    return;
  }
  const YAML::Node action = At(probe, "httpGet").IsDefined()
                                ? At(probe, "httpGet")
                                : At(probe, "tcpSocket");
  if (!action.IsDefined()) {
    problems.Add(o, absl::StrCat(where, " must be httpGet or tcpSocket"));
    return;
  }
  if (c.PortNumber(At(action, "port")) < 0) {
    problems.Add(o, absl::StrCat(where, " port '", Str(At(action, "port")),
                                 "' is not a port of the container"));
  }
  if (At(probe, "httpGet").IsDefined() &&
      ServedPaths().count(Str(At(action, "path"))) == 0) {
    problems.Add(o, absl::StrCat(where, " path '", Str(At(action, "path")),
                                 "' is not served by the admin endpoint"));
  }
}

void CheckContainer(const Object& o, const Container& c, Problems& problems) {
  const std::string where = absl::StrCat("container '", c.name, "' ");
  if (Str(At(c.node, "image")).empty()) problems.Add(o, where + "has no image");
  const YAML::Node security = At(c.node, "securityContext");
  if (Str(At(security, "allowPrivilegeEscalation")) != "false") {
    problems.Add(o, where + "must set allowPrivilegeEscalation: false");
  }
  if (Str(At(security, "readOnlyRootFilesystem")) != "true") {
    problems.Add(o, where + "must set readOnlyRootFilesystem: true");
  }
  if (!Strings(At(security, "capabilities", "drop")).count("ALL")) {
    problems.Add(o, where + "must drop ALL capabilities");
  }
  if (At(security, "capabilities", "add").IsDefined()) {
    problems.Add(o, where + "must add no capabilities");
  }
  const YAML::Node resources = At(c.node, "resources");
  for (const char* what : {"cpu", "memory"}) {
    if (Str(At(resources, "requests", what)).empty()) {
      problems.Add(o, absl::StrCat(where, "has no ", what, " request"));
    }
  }
  const double request = Bytes(Str(At(resources, "requests", "memory")));
  const double limit = Bytes(Str(At(resources, "limits", "memory")));
  if (limit <= 0) {
    problems.Add(o, where + "has no memory limit");
  } else if (limit < request) {
    problems.Add(o, where + "has a memory limit below its request");
  }
  std::set<std::string> port_names;
  for (const YAML::Node& port : Items(At(c.node, "ports"))) {
    if (!port_names.insert(Str(At(port, "name"))).second) {
      problems.Add(o,
                   where + "names two ports '" + Str(At(port, "name")) + "'");
    }
  }
  CheckProbe(o, c, "startupProbe", false, problems);
  CheckProbe(o, c, "livenessProbe", true, problems);
  CheckProbe(o, c, "readinessProbe", true, problems);
}

void CheckPodSecurity(const Object& o, const Workload& w, Problems& problems) {
  const YAML::Node security = At(w.pod_spec, "securityContext");
  if (Str(At(security, "runAsNonRoot")) != "true") {
    problems.Add(o, "the pod must set runAsNonRoot: true");
  }
  int uid = 0;
  if (At(security, "runAsUser").IsDefined() &&
      (!absl::SimpleAtoi(Str(At(security, "runAsUser")), &uid) || uid <= 0)) {
    problems.Add(o, "runAsUser must be a uid other than root's");
  }
  const bool pod_seccomp =
      Str(At(security, "seccompProfile", "type")) == "RuntimeDefault";
  for (const Container& c : w.containers) {
    if (!pod_seccomp && Str(At(c.node, "securityContext", "seccompProfile",
                               "type")) != "RuntimeDefault") {
      problems.Add(o, absl::StrCat("container '", c.name,
                                   "' needs seccompProfile RuntimeDefault"));
    }
  }
}

void CheckAntiAffinity(const Object& o, const Workload& w, Problems& problems) {
  for (const YAML::Node& term :
       Items(At(w.pod_spec, "affinity", "podAntiAffinity",
                "requiredDuringSchedulingIgnoredDuringExecution"))) {
    if (Str(At(term, "topologyKey")) == "kubernetes.io/hostname" &&
        Selects(Labels(At(term, "labelSelector", "matchLabels")),
                w.pod_labels)) {
      return;
    }
  }
  problems.Add(
      o,
      "needs required pod anti-affinity on kubernetes.io/hostname "
      "selecting its own pods (two replicas on one node fail together)");
}

void CheckVolumes(const Object& o, const Workload& w, const Index& index,
                  Problems& problems) {
  for (const Container& c : w.containers) {
    for (const YAML::Node& mount : Items(At(c.node, "volumeMounts"))) {
      const std::string name = Str(At(mount, "name"));
      if (!w.volumes.count(name) && !w.claim_templates.count(name)) {
        problems.Add(o, absl::StrCat("container '", c.name, "' mounts '", name,
                                     "', which is no volume of the pod"));
      }
    }
  }
  for (const auto& [name, volume] : w.volumes) {
    if (At(volume, "configMap").IsDefined() &&
        !index.Find("ConfigMap", Str(At(volume, "configMap", "name")))) {
      problems.Add(
          o, absl::StrCat("volume '", name, "' names no ConfigMap of the set"));
    }
    std::vector<YAML::Node> secrets;
    if (At(volume, "secret").IsDefined())
      secrets.push_back(At(volume, "secret"));
    for (const YAML::Node& source : Items(At(volume, "projected", "sources"))) {
      if (At(source, "secret").IsDefined())
        secrets.push_back(At(source, "secret"));
    }
    for (const YAML::Node& ref : secrets) {
      const std::string secret_name = Str(At(ref, "name")).empty()
                                          ? Str(At(ref, "secretName"))
                                          : Str(At(ref, "name"));
      const Object* secret = index.Find("Secret", secret_name);
      if (secret == nullptr) {
        problems.Add(o, absl::StrCat("volume '", name, "' names Secret '",
                                     secret_name, "', not in the set"));
        continue;
      }
      for (const YAML::Node& item : Items(At(ref, "items"))) {
        if (!SecretKeys(*secret).count(Str(At(item, "key")))) {
          problems.Add(o, absl::StrCat("volume '", name, "' takes key '",
                                       Str(At(item, "key")), "' that Secret '",
                                       secret_name, "' does not have"));
        }
      }
    }
  }
  const std::string account = Str(At(w.pod_spec, "serviceAccountName"));
  if (!account.empty() && !index.Find("ServiceAccount", account)) {
    problems.Add(o, absl::StrCat("serviceAccountName '", account,
                                 "' is no ServiceAccount of the set"));
  }
}

void CheckWorkload(const Object& o, const Workload& w, const Index& index,
                   Problems& problems) {
  if (w.selector.empty() || !Selects(w.selector, w.pod_labels)) {
    problems.Add(o, "spec.selector does not match the pod template's labels");
  }
  if (w.replicas < 2) problems.Add(o, "needs at least 2 replicas");
  if (o.kind == "StatefulSet") {
    const Object* service =
        index.Find("Service", Str(At(o.doc, "spec", "serviceName")));
    if (service == nullptr ||
        Str(At(service->doc, "spec", "clusterIP")) != "None" ||
        !Selects(Labels(At(service->doc, "spec", "selector")), w.pod_labels)) {
      problems.Add(o, "serviceName must name a headless Service of its pods");
    }
  }
  if (w.containers.empty()) problems.Add(o, "has no containers");
  CheckPodSecurity(o, w, problems);
  CheckAntiAffinity(o, w, problems);
  for (const Container& c : w.containers) CheckContainer(o, c, problems);
  CheckVolumes(o, w, index, problems);
}

// A port (name or number) of `w`'s containers, or -1.
int PodPort(const Workload& w, const YAML::Node& port) {
  for (const Container& c : w.containers) {
    if (int number = c.PortNumber(port); number > 0) return number;
  }
  return -1;
}

void CheckService(const Object& o, const Index& index, Problems& problems) {
  const Workload* w =
      index.WorkloadSelectedBy(Labels(At(o.doc, "spec", "selector")));
  if (w == nullptr) {
    problems.Add(o, "spec.selector matches the pods of no workload in the set");
    return;
  }
  for (const YAML::Node& port : Items(At(o.doc, "spec", "ports"))) {
    const YAML::Node target = At(port, "targetPort").IsDefined()
                                  ? At(port, "targetPort")
                                  : At(port, "port");
    if (PodPort(*w, target) < 0) {
      problems.Add(o, absl::StrCat("targetPort '", Str(target),
                                   "' is no container port of its pods"));
    }
  }
}

void CheckDisruptionBudget(const Object& o, const Index& index,
                           Problems& problems) {
  const Workload* w = index.WorkloadSelectedBy(
      Labels(At(o.doc, "spec", "selector", "matchLabels")));
  if (w == nullptr) {
    problems.Add(o, "spec.selector matches the pods of no workload in the set");
    return;
  }
  int min_available = 0;
  if (absl::SimpleAtoi(Str(At(o.doc, "spec", "minAvailable")),
                       &min_available) &&
      min_available >= w->replicas) {
    problems.Add(
        o, "minAvailable leaves no replica to evict: it blocks every drain");
  }
}

void CheckNetworkPolicy(const Object& o, const Index& index,
                        Problems& problems) {
  const Workload* w = index.WorkloadSelectedBy(
      Labels(At(o.doc, "spec", "podSelector", "matchLabels")));
  if (w == nullptr) {
    problems.Add(o,
                 "spec.podSelector matches the pods of no workload in the set");
    return;
  }
  if (!Strings(At(o.doc, "spec", "policyTypes")).count("Ingress")) {
    problems.Add(o, "policyTypes must include Ingress");
  }
  for (const YAML::Node& rule : Items(At(o.doc, "spec", "ingress"))) {
    if (Items(At(rule, "from")).empty()) {
      problems.Add(o, "an ingress rule without 'from' admits everyone");
    }
    for (const YAML::Node& port : Items(At(rule, "ports"))) {
      if (PodPort(*w, At(port, "port")) < 0) {
        problems.Add(o, absl::StrCat("port '", Str(At(port, "port")),
                                     "' is no container port of its pods"));
      }
    }
  }
}

void CheckSecret(const Object& o, Problems& problems) {
  for (const char* section : {"data", "stringData"}) {
    const YAML::Node values = At(o.doc, section);
    if (!values.IsDefined() || !values.IsMap()) continue;
    for (auto it = values.begin(); it != values.end(); ++it) {
      const std::string value = Str(it->second);
      if (absl::StrContains(value, "-----BEGIN") ||
          !absl::StrContains(value, "REPLACE")) {
        problems.Add(o, absl::StrCat("key '", Str(it->first),
                                     "' holds a value, not a REPLACE "
                                     "placeholder: no keys in the repository"));
      }
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<Manifest>> LoadManifests(
    const std::vector<std::string>& paths) {
  std::vector<Manifest> manifests;
  for (const std::string& path : paths) {
    const std::string file = path.substr(path.rfind('/') + 1);
    try {
      for (const YAML::Node& doc : YAML::LoadAllFromFile(path)) {
        if (doc.IsNull()) continue;
        manifests.push_back({file, doc});
      }
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
    }
  }
  return manifests;
}

std::vector<Manifest> CloneManifests(const std::vector<Manifest>& manifests) {
  std::vector<Manifest> copy;
  for (const Manifest& m : manifests)
    copy.push_back({m.file, YAML::Clone(m.doc)});
  return copy;
}

std::vector<std::string> CheckManifests(
    const std::vector<Manifest>& manifests) {
  Problems problems;
  try {
    const Index index(manifests);
    const Object* ns = nullptr;
    for (const Object& o : index.objects()) {
      if (o.kind == "Namespace") ns = &o;
    }
    for (const Object& o : index.objects()) {
      CheckObject(o, ns == nullptr ? "" : ns->name, problems);
      if (const Workload* w = index.WorkloadOf(o); w != nullptr) {
        CheckWorkload(o, *w, index, problems);
        CheckGatewayConfig(o, *w, index, problems);
      } else if (o.kind == "Service") {
        CheckService(o, index, problems);
      } else if (o.kind == "PodDisruptionBudget") {
        CheckDisruptionBudget(o, index, problems);
      } else if (o.kind == "NetworkPolicy") {
        CheckNetworkPolicy(o, index, problems);
      } else if (o.kind == "Secret") {
        CheckSecret(o, problems);
      }
    }
  } catch (const YAML::Exception& e) {
    problems.lines.push_back(absl::StrCat("malformed manifest: ", e.what()));
  }
  return problems.lines;
}

}  // namespace lienthong::deploy_testing
