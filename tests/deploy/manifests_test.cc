// deploy/kubernetes without a cluster: the structural check
// (manifest_check.h) finds nothing in the manifests and finds each mistake
// planted in a copy of them; the kustomization lists them all but the
// Secret templates; the NetworkPolicy admits only the provincial systems'
// namespace to the gRPC port; the resources cover the measured figures;
// the Containerfile agrees with the pod.
#include <dirent.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy/deploy_testing.h"
#include "tests/deploy/manifest_check.h"
#include "tests/deploy/manifest_index.h"
#include "tests/testing/subprocess.h"

namespace lienthong::deploy_testing {
namespace {

using ::lienthong::testing::SourcePath;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Dir() { return SourcePath("deploy/kubernetes"); }

// The files `kubectl apply -k` applies, then the Secret templates.
std::vector<std::string> ManifestFiles() {
  std::vector<std::string> files;
  YAML::Node kustomization = YAML::LoadFile(Dir() + "/kustomization.yaml");
  for (const YAML::Node& file : kustomization["resources"]) {
    files.push_back(Dir() + "/" + file.as<std::string>());
  }
  files.push_back(Dir() + "/secrets.template.yaml");
  return files;
}

std::vector<Manifest> Load() {
  auto manifests = LoadManifests(ManifestFiles());
  EXPECT_TRUE(manifests.ok()) << manifests.status();
  return manifests.ok() ? *manifests : std::vector<Manifest>{};
}

// The (first) document of `kind`, to change in place.
YAML::Node Doc(std::vector<Manifest>& manifests, const std::string& kind) {
  for (Manifest& m : manifests) {
    if (m.doc["kind"].as<std::string>() == kind) return m.doc;
  }
  ADD_FAILURE() << "no " << kind;
  return YAML::Node();
}

YAML::Node Gateway(std::vector<Manifest>& m) {
  return Doc(m, "StatefulSet")["spec"]["template"]["spec"]["containers"][0];
}

void EditConfig(std::vector<Manifest>& m, const std::string& from,
                const std::string& to) {
  YAML::Node data = Doc(m, "ConfigMap")["data"];
  const std::string text = data["gateway.yaml"].as<std::string>();
  ASSERT_THAT(text, HasSubstr(from));
  data["gateway.yaml"] = absl::StrReplaceAll(text, {{from, to}});
}

TEST(ManifestsTest, TheManifestsHaveNoProblems) {
  const std::vector<Manifest> manifests = Load();
  ASSERT_GE(manifests.size(), 10u);
  EXPECT_THAT(CheckManifests(manifests), IsEmpty());
}

TEST(ManifestsTest, EachPlantedMistakeIsFound) {
  struct Case {
    const char* mistake;
    std::function<void(std::vector<Manifest>&)> plant;
    const char* found;
  };
  const Case kCases[] = {
      {"pod labels no longer selected",
       [](auto& m) {
         Doc(m, "StatefulSet")["spec"]["template"]["metadata"]["labels"] =
             YAML::Load("{app: other}");
       },
       "spec.selector does not match the pod template's labels"},
      {"one replica",
       [](auto& m) { Doc(m, "StatefulSet")["spec"]["replicas"] = 1; },
       "needs at least 2 replicas"},
      {"anti-affinity by zone only",
       [](auto& m) {
         Doc(m, "StatefulSet")["spec"]["template"]["spec"]["affinity"]
                              ["podAntiAffinity"]
                              ["requiredDuringSchedulingIgnoredDuringExecution"]
                              [0]["topologyKey"] =
                                  "topology.kubernetes.io/zone";
       },
       "anti-affinity on kubernetes.io/hostname"},
      {"writable root",
       [](auto& m) {
         Gateway(m)["securityContext"]["readOnlyRootFilesystem"] = false;
       },
       "readOnlyRootFilesystem: true"},
      {"capabilities kept",
       [](auto& m) {
         Gateway(m)["securityContext"]["capabilities"]["drop"] =
             YAML::Load("[NET_RAW]");
       },
       "must drop ALL capabilities"},
      {"root",
       [](auto& m) {
         Doc(m, "StatefulSet")["spec"]["template"]["spec"]["securityContext"]
                              ["runAsUser"] = 0;
       },
       "runAsUser must be a uid other than root's"},
      {"no memory limit",
       [](auto& m) { Gateway(m)["resources"].remove("limits"); },
       "has no memory limit"},
      {"probe on an unserved path",
       [](auto& m) {
         Gateway(m)["readinessProbe"]["httpGet"]["path"] = "/ready";
       },
       "'/ready' is not served by the admin endpoint"},
      {"kubelet gRPC probe",
       [](auto& m) {
         Gateway(m)["livenessProbe"] = YAML::Load("{grpc: {port: 8443}}");
       },
       "the kubelet cannot present the client certificate"},
      {"Service to a port the pod lacks",
       [](auto& m) {
         Doc(m, "Service")["spec"]["ports"][0]["targetPort"] = "grcp";
       },
       "targetPort 'grcp' is no container port"},
      {"budget blocking drains",
       [](auto& m) {
         Doc(m, "PodDisruptionBudget")["spec"]["minAvailable"] = 2;
       },
       "blocks every drain"},
      {"policy admitting everyone",
       [](auto& m) {
         Doc(m, "NetworkPolicy")["spec"]["ingress"][0].remove("from");
       },
       "without 'from' admits everyone"},
      {"key material in a Secret",
       [](auto& m) {
         Doc(m, "Secret")["stringData"]["tls.key"] =
             "-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n-----END PRIVATE "
             "KEY-----\n";
       },
       "key 'tls.key' holds a value, not a REPLACE placeholder"},
      {"unknown ConfigMap",
       [](auto& m) {
         Doc(m, "StatefulSet")["spec"]["template"]["spec"]["volumes"][0]
                              ["configMap"]["name"] = "gateway-config";
       },
       "--config /etc/lienthong/gateway.yaml is no key of a ConfigMap"},
      {"Secret key that does not exist",
       [](auto& m) {
         Doc(m, "StatefulSet")["spec"]["template"]["spec"]["volumes"][1]
                              ["projected"]["sources"][0]["secret"]["items"][0]
                              ["key"] = "cert.pem";
       },
       "takes key 'cert.pem' that Secret 'lienthong-tls' does not have"},
      {"wrong apiVersion",
       [](auto& m) {
         Doc(m, "PodDisruptionBudget")["apiVersion"] = "policy/v1beta1";
       },
       "apiVersion must be policy/v1"},
      {"another namespace",
       [](auto& m) { Doc(m, "Service")["metadata"]["namespace"] = "default"; },
       "metadata.namespace must be 'lienthong'"},
      {"admin endpoint on loopback",
       [](auto& m) {
         EditConfig(m, "address: 0.0.0.0:9464", "address: 127.0.0.1:9464");
       },
       "admin.address '127.0.0.1:9464' is loopback"},
      {"listener on another port",
       [](auto& m) {
         EditConfig(m, "address: 0.0.0.0:8443", "address: 0.0.0.0:8444");
       },
       "listener.address '0.0.0.0:8444' is on no container port"},
      {"credential the Secrets lack",
       [](auto& m) {
         EditConfig(m, "${credential:c06-secret}",
                    "${credential:c06-password}");
       },
       "credential 'c06-password' is no file of the volume"},
      {"variable the env lacks",
       [](auto& m) { EditConfig(m, "${POD_NAME}", "${HOSTNAME}"); },
       "reads ${HOSTNAME}, which the container's env does not set"},
      {"state on an emptyDir",
       [](auto& m) {
         YAML::Node spec = Doc(m, "StatefulSet")["spec"];
         spec.remove("volumeClaimTemplates");
         spec["template"]["spec"]["volumes"].push_back(
             YAML::Load("{name: state, emptyDir: {}}"));
       },
       "audit.store_file '${STATE_DIRECTORY}/audit.db' is not on a "
       "volumeClaimTemplate's volume"},
  };
  const std::vector<Manifest> pristine = Load();
  for (const Case& c : kCases) {
    std::vector<Manifest> manifests = CloneManifests(pristine);
    c.plant(manifests);
    const std::vector<std::string> problems = CheckManifests(manifests);
    EXPECT_THAT(problems, Contains(HasSubstr(c.found)))
        << c.mistake << ": " << absl::StrJoin(problems, "\n");
  }
  // The copies changed; the originals did not.
  EXPECT_THAT(CheckManifests(pristine), IsEmpty());
}

TEST(ManifestsTest, MalformedManifestsAreProblemsNotCrashes) {
  std::vector<Manifest> manifests = Load();
  Doc(manifests, "StatefulSet")["spec"] = "not a map";
  Doc(manifests, "Service")["spec"]["ports"] = YAML::Load("{a: b}");
  Doc(manifests, "ConfigMap")["data"]["gateway.yaml"] = "listener: [";
  const std::vector<std::string> problems = CheckManifests(manifests);
  EXPECT_THAT(problems, Contains(HasSubstr("needs at least 2 replicas")));
  EXPECT_THAT(problems, Contains(HasSubstr("has no containers")));
}

TEST(ManifestsTest, KustomizationAppliesEveryManifestButTheSecretTemplates) {
  std::set<std::string> on_disk;
  DIR* dir = opendir(Dir().c_str());
  ASSERT_NE(dir, nullptr);
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (absl::EndsWith(name, ".yaml") && name != "kustomization.yaml" &&
        name != "secrets.template.yaml") {
      on_disk.insert(Dir() + "/" + name);
    }
  }
  closedir(dir);
  std::vector<std::string> listed = ManifestFiles();
  listed.pop_back();  // the templates
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), on_disk);
}

TEST(ManifestsTest, OnlyTheProvincialSystemsReachTheGrpcPort) {
  std::vector<Manifest> manifests = Load();
  const YAML::Node ingress = Doc(manifests, "NetworkPolicy")["spec"]["ingress"];
  std::set<std::string> admitted_to_grpc;
  for (const YAML::Node& rule : ingress) {
    bool grpc = false;
    for (const YAML::Node& port : rule["ports"]) {
      grpc |= port["port"].as<std::string>() == "grpc";
    }
    if (!grpc) continue;
    for (const YAML::Node& from : rule["from"]) {
      ASSERT_FALSE(from["podSelector"].IsDefined());
      ASSERT_FALSE(from["ipBlock"].IsDefined());
      admitted_to_grpc.insert(from["namespaceSelector"]["matchLabels"]
                                  ["kubernetes.io/metadata.name"]
                                      .as<std::string>());
    }
  }
  EXPECT_EQ(admitted_to_grpc, std::set<std::string>{"provincial-systems"});
}

TEST(ManifestsTest, ResourcesCoverTheMeasuredMemory) {
  // README, "Measured": 270 MiB peak resident at 5,000 concurrent calls;
  // "Performance": 52-54 MiB peak at 32 in flight; "Deployment": ~29 MiB idle.
  std::vector<Manifest> manifests = Load();
  const YAML::Node resources = Gateway(manifests)["resources"];
  EXPECT_GE(Bytes(resources["limits"]["memory"].as<std::string>()),
            270.0 * 1024 * 1024 * 1.5);
  EXPECT_GE(Bytes(resources["requests"]["memory"].as<std::string>()),
            54.0 * 1024 * 1024);
}

TEST(ManifestsTest, ContainerfileAgreesWithThePod) {
  const std::string containerfile = ReadFile(Dir() + "/Containerfile");
  std::vector<Manifest> manifests = Load();
  const YAML::Node pod =
      Doc(manifests, "StatefulSet")["spec"]["template"]["spec"];
  EXPECT_THAT(containerfile, HasSubstr("docker.io/library/debian:12"));
  EXPECT_THAT(containerfile,
              HasSubstr(absl::StrCat(
                  "\nUSER ", pod["securityContext"]["runAsUser"].as<int>(), ":",
                  pod["securityContext"]["runAsGroup"].as<int>(), "\n")));
  std::vector<std::string> ports;
  for (const YAML::Node& port : pod["containers"][0]["ports"]) {
    ports.push_back(port["containerPort"].as<std::string>());
  }
  EXPECT_THAT(
      containerfile,
      HasSubstr(absl::StrCat("\nEXPOSE ", absl::StrJoin(ports, " "), "\n")));
  // Where the package installs the daemon, and where the pod mounts its
  // config.
  EXPECT_THAT(containerfile,
              HasSubstr("ENTRYPOINT [\"/usr/sbin/lienthong-gateway\"]"));
  EXPECT_EQ(pod["containers"][0]["args"][1].as<std::string>(),
            "/etc/lienthong/gateway.yaml");
}

}  // namespace
}  // namespace lienthong::deploy_testing
