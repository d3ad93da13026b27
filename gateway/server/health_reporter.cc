#include "gateway/server/health_reporter.h"

#include <utility>

#include "gateway/log/log.h"

namespace lienthong::server {

HealthReporter::HealthReporter(grpc::HealthCheckServiceInterface* health,
                               std::vector<std::string> services,
                               Readiness ready, absl::Duration interval)
    : health_(health),
      services_(std::move(services)),
      ready_(std::move(ready)),
      interval_(interval) {
  Update();
  thread_ = std::thread([this] { Run(); });
}

HealthReporter::~HealthReporter() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void HealthReporter::Update() {
  std::vector<std::string> names = services_;
  names.insert(names.begin(), "");
  absl::MutexLock lock(&mu_);
  for (const std::string& name : names) {
    const absl::Status ready = ready_(name);
    auto [it, first] = serving_.emplace(name, ready.ok());
    if (!first && it->second == ready.ok()) continue;
    it->second = ready.ok();
    health_->SetServingStatus(name, ready.ok());
    if (!first || !ready.ok()) {
      log::Write(ready.ok() ? log::Level::kInfo : log::Level::kWarning,
                 "health status changed",
                 {{"service", name.empty() ? "(server)" : name},
                  {"status", ready.ok() ? "SERVING" : "NOT_SERVING"},
                  {"reason", ready.message()}});
    }
  }
}

void HealthReporter::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
    }
    Update();
  }
}

}  // namespace lienthong::server
