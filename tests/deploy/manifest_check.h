// CheckManifests: an offline structural check of Kubernetes manifests, in
// place of `kubectl apply --dry-run=client`, which needs an API server for
// its schema (Debian 12 packages no kubeconform or kubeval; its kubectl
// 1.20 also asks the server). It checks what such a validation would and
// what it would not: that the objects refer to each other correctly, and
// that the pods meet this project's rules and agree with the gateway config
// they mount.
//
// Objects: apiVersion matching the kind, a DNS-1123 name, the namespace of
// the set's Namespace. Workloads (StatefulSet, Deployment): a selector that
// matches the pod template's labels, at least 2 replicas, required pod
// anti-affinity on kubernetes.io/hostname selecting the pods, a
// StatefulSet's serviceName naming a headless Service of its pods;
// runAsNonRoot, a non-root runAsUser, seccomp RuntimeDefault, and per
// container no privilege escalation, a read-only root file system, ALL
// capabilities dropped and none added, CPU and memory requests and a memory
// limit not below its request; liveness and readiness probes, each one
// HTTP on a path the admin endpoint serves or TCP, on a port the container
// declares, never gRPC (the kubelet cannot present a client certificate);
// mounts of declared volumes, and ConfigMaps, Secrets, Secret keys and
// ServiceAccounts that exist in the set. Services, PodDisruptionBudgets and
// NetworkPolicies select pods of a workload, on ports those pods declare; a
// budget leaves one replica to drain; an ingress rule names who it admits.
// Secrets hold only placeholders ("REPLACE..."), never key material.
//
// The gateway's config (the file `--config` names in a mounted ConfigMap):
// its listener and admin ports are container ports, the admin endpoint is
// not on loopback when probes use it, every ${VAR} it reads is in the
// container's env, every credential it reads (${CREDENTIALS_DIRECTORY}/NAME,
// ${credential:NAME}) is a file of the volume mounted there, and its audit
// store and outbox lie on a persistent volume (a volumeClaimTemplate), not
// in the container or an emptyDir.
#ifndef LIENTHONG_TESTS_DEPLOY_MANIFEST_CHECK_H_
#define LIENTHONG_TESTS_DEPLOY_MANIFEST_CHECK_H_

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lienthong::deploy_testing {

struct Manifest {
  std::string file;  // the file's name, for messages
  YAML::Node doc;
};

// Every document of every file in `paths`, in order, skipping empty ones.
// Fails with INVALID_ARGUMENT naming the file when one does not parse.
absl::StatusOr<std::vector<Manifest>> LoadManifests(
    const std::vector<std::string>& paths);

// A deep copy of `manifests`, for tests that change one and check it.
std::vector<Manifest> CloneManifests(const std::vector<Manifest>& manifests);

// The problems in `manifests`, one line each, "FILE: Kind/name: what is
// wrong"; empty when there are none. Never throws, whatever the YAML.
std::vector<std::string> CheckManifests(const std::vector<Manifest>& manifests);

}  // namespace lienthong::deploy_testing

#endif  // LIENTHONG_TESTS_DEPLOY_MANIFEST_CHECK_H_
