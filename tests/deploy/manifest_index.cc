#include "tests/deploy/manifest_index.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace lienthong::deploy_testing {

YAML::Node Child(const YAML::Node& n, const std::string& key) {
  if (n.IsDefined() && n.IsMap()) {
    // Const lookup: a missing key adds nothing.
    const YAML::Node child = n[key];
    if (child.IsDefined()) return child;
  }
  // Not yaml-cpp's "zombie" node for a missing key, which throws when
  // asked its type or assigned: a valid node of type Undefined.
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string Str(const YAML::Node& n) {
  return n.IsDefined() && n.IsScalar() ? n.Scalar() : "";
}

std::vector<YAML::Node> Items(const YAML::Node& n) {
  std::vector<YAML::Node> items;
  if (n.IsDefined() && n.IsSequence()) {
    for (const YAML::Node& item : n) items.push_back(item);
  }
  return items;
}

std::set<std::string> Strings(const YAML::Node& n) {
  std::set<std::string> strings;
  for (const YAML::Node& item : Items(n)) strings.insert(Str(item));
  return strings;
}

std::map<std::string, std::string> Labels(const YAML::Node& n) {
  std::map<std::string, std::string> labels;
  if (n.IsDefined() && n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      labels[Str(it->first)] = Str(it->second);
    }
  }
  return labels;
}

bool Selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  if (selector.empty()) return false;
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

double Bytes(const std::string& quantity) {
  static const std::pair<const char*, double> kSuffixes[] = {
      {"Ki", 1024.0},
      {"Mi", 1024.0 * 1024},
      {"Gi", 1024.0 * 1024 * 1024},
      {"k", 1e3},
      {"M", 1e6},
      {"G", 1e9}};
  for (const auto& [suffix, factor] : kSuffixes) {
    const std::string s(suffix);
    if (quantity.size() > s.size() &&
        quantity.compare(quantity.size() - s.size(), s.size(), s) == 0) {
      double number;
      if (!absl::SimpleAtod(quantity.substr(0, quantity.size() - s.size()),
                            &number)) {
        return -1;
      }
      return number * factor;
    }
  }
  double number;
  return absl::SimpleAtod(quantity, &number) ? number : -1;
}

std::set<std::string> SecretKeys(const Object& secret) {
  std::set<std::string> keys;
  for (const char* section : {"data", "stringData"}) {
    for (const auto& [key, value] : Labels(At(secret.doc, section))) {
      keys.insert(key);
    }
  }
  return keys;
}

int Container::PortNumber(const YAML::Node& port) const {
  const std::string wanted = Str(port);
  for (const YAML::Node& declared : Items(At(node, "ports"))) {
    int number = 0;
    if (!absl::SimpleAtoi(Str(At(declared, "containerPort")), &number)) {
      continue;
    }
    if (wanted == Str(At(declared, "name")) || wanted == absl::StrCat(number)) {
      return number;
    }
  }
  return -1;
}

namespace {

Workload MakeWorkload(const YAML::Node& doc) {
  Workload w;
  const YAML::Node spec = At(doc, "spec");
  w.selector = Labels(At(spec, "selector", "matchLabels"));
  w.pod_labels = Labels(At(spec, "template", "metadata", "labels"));
  w.pod_spec = At(spec, "template", "spec");
  const std::string replicas = Str(At(spec, "replicas"));
  if (!replicas.empty() && !absl::SimpleAtoi(replicas, &w.replicas)) {
    w.replicas = 0;
  }
  for (const YAML::Node& c : Items(At(w.pod_spec, "containers"))) {
    w.containers.push_back({Str(At(c, "name")), c});
  }
  for (const YAML::Node& v : Items(At(w.pod_spec, "volumes"))) {
    w.volumes[Str(At(v, "name"))] = v;
  }
  for (const YAML::Node& t : Items(At(spec, "volumeClaimTemplates"))) {
    w.claim_templates.insert(Str(At(t, "metadata", "name")));
  }
  return w;
}

}  // namespace

Index::Index(const std::vector<Manifest>& manifests) {
  for (const Manifest& m : manifests) {
    objects_.push_back({&m, m.doc, Str(At(m.doc, "kind")),
                        Str(At(m.doc, "metadata", "name"))});
  }
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (objects_[i].kind == "StatefulSet" || objects_[i].kind == "Deployment") {
      workloads_[i] = MakeWorkload(objects_[i].doc);
    }
  }
}

const Object* Index::Find(const std::string& kind,
                          const std::string& name) const {
  for (const Object& o : objects_) {
    if (o.kind == kind && o.name == name) return &o;
  }
  return nullptr;
}

const Workload* Index::WorkloadOf(const Object& o) const {
  auto it = workloads_.find(static_cast<size_t>(&o - objects_.data()));
  return it == workloads_.end() ? nullptr : &it->second;
}

const Workload* Index::WorkloadSelectedBy(
    const std::map<std::string, std::string>& selector) const {
  for (const auto& [i, w] : workloads_) {
    if (Selects(selector, w.pod_labels)) return &w;
  }
  return nullptr;
}

void Problems::Add(const Object& o, absl::string_view what) {
  lines.push_back(
      absl::StrCat(o.manifest->file, ": ", o.kind, "/", o.name, ": ", what));
}

}  // namespace lienthong::deploy_testing
