#include "gateway/bundle/bundles.h"

#include <openssl/crypto.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/bundle/definitions.h"
#include "gateway/bundle/outbox_progress_sink.h"
#include "gateway/config/config_error.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_key.h"

namespace lienthong::bundle {
namespace {

const std::string& StoreFile(const lienthong::config::v1::Bundles& b) {
  static const std::string* const kDefault =
      new std::string(kDefaultBundleStoreFile);
  return b.store_file().empty() ? *kDefault : b.store_file();
}

absl::StatusOr<std::unique_ptr<calendar::CalendarSource>> OpenCalendar(
    const lienthong::config::v1::Bundles& b) {
  if (b.holiday_file().empty()) {
    log::Warning("no bundles.holiday_file: deadlines skip weekends only");
    return std::make_unique<calendar::CalendarSource>(calendar::WorkingCalendar());
  }
  absl::StatusOr<std::unique_ptr<calendar::CalendarSource>> source =
      calendar::CalendarSource::Open(b.holiday_file());
  if (!source.ok()) {
    return config::AtConfigField("bundles.holiday_file", source.status());
  }
  return source;
}

OrchestratorOptions OptionsOf(const lienthong::config::v1::Bundles& b) {
  OrchestratorOptions options;
  if (b.retry_min_seconds() > 0) options.retry_min = absl::Seconds(b.retry_min_seconds());
  if (b.retry_max_seconds() > 0) options.retry_max = absl::Seconds(b.retry_max_seconds());
  if (options.retry_max < options.retry_min) options.retry_max = options.retry_min;
  if (b.call_timeout_ms() > 0) {
    options.call_timeout = absl::Milliseconds(b.call_timeout_ms());
  }
  if (!b.handler().empty()) options.handler = b.handler();
  if (b.holiday_refresh_seconds() > 0) {
    options.calendar_refresh = absl::Seconds(b.holiday_refresh_seconds());
  }
  if (b.keep_ended_days() > 0) {
    options.keep_ended = absl::Hours(24) * b.keep_ended_days();
  }
  return options;
}

}  // namespace

resilience::RetryPolicy StepCallPolicy(const lienthong::config::v1::Bundles& b) {
  resilience::RetryPolicy policy;
  policy.max_attempts = b.call_attempts() > 0 ? b.call_attempts() : 3;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Seconds(2);
  return policy;
}

absl::StatusOr<std::unique_ptr<Bundles>> Bundles::Create(
    const lienthong::config::v1::GatewayConfig& config,
    RuntimeStepInvoker::RuntimeSource runtime, sync::Outbox* outbox) {
  std::unique_ptr<Bundles> bundles(new Bundles());
  bundles->config_ = config.bundles();
  LIENTHONG_ASSIGN_OR_RETURN(
      std::string key,
      sync::ConfiguredKey(config.bundles().key_file(), "bundles.key_file",
                          StoreFile(config.bundles()), "bundles.key"));
  absl::StatusOr<std::unique_ptr<SqliteBundleStore>> store =
      SqliteBundleStore::Open(StoreFile(config.bundles()), key);
  OPENSSL_cleanse(key.data(), key.size());
  if (!store.ok()) {
    return config::AtConfigField("bundles.store_file", store.status());
  }
  bundles->store_ = *std::move(store);
  LIENTHONG_ASSIGN_OR_RETURN(bundles->calendar_, OpenCalendar(config.bundles()));
  bundles->invoker_ = std::make_unique<RuntimeStepInvoker>(
      std::move(runtime), StepCallPolicy(config.bundles()));
  if (outbox != nullptr) {
    bundles->sink_ = std::make_unique<OutboxProgressSink>(outbox);
  } else {
    log::Warning(
        "portal synchronisation is off: bundles' progress is kept, not sent");
  }
  bundles->orchestrator_ = std::make_unique<Orchestrator>(
      bundles->store_.get(), bundles->invoker_.get(), bundles->sink_.get(),
      bundles->calendar_.get(), DefinitionsByKind(config.bundles()),
      OptionsOf(config.bundles()));
  bundles->service_ = std::make_unique<BundleService>(bundles->orchestrator_.get());
  return bundles;
}

Bundles::~Bundles() { Stop(); }

void Bundles::ExportMetrics(metrics::Registry& registry) {
  Orchestrator* orchestrator = orchestrator_.get();
  metrics_ = std::make_unique<BundleMetrics>(
      registry, StepNames(config_), [orchestrator] { return orchestrator->Counts(); });
  orchestrator_->SetMetrics(metrics_.get());
}

absl::Status Bundles::Start(
    BundleAuthorizer authorize,
    std::shared_ptr<const calls::CallRecorder> recorder) {
  LIENTHONG_RETURN_IF_ERROR(CheckDefinitions(config_, *invoker_));
  orchestrator_->SetAuditLog(recorder != nullptr ? recorder->audit() : nullptr);
  LIENTHONG_RETURN_IF_ERROR(orchestrator_->Start());
  service_->Start(std::move(authorize), std::move(recorder));
  log::Info("bundles started",
            {{"kinds", absl::StrCat(config_.definitions_size())},
             {"store", StoreFile(config_)}});
  return absl::OkStatus();
}

absl::Status Bundles::CheckRuntime(
    std::shared_ptr<const server::Runtime> runtime) const {
  RuntimeStepInvoker invoker([runtime] { return runtime; },
                             StepCallPolicy(config_));
  LIENTHONG_RETURN_IF_ERROR(CheckDefinitions(config_, invoker));
  return orchestrator_->CheckOpenSteps(invoker);
}

void Bundles::Stop() {
  if (orchestrator_ != nullptr) orchestrator_->Stop();
}

absl::Status CheckBundles(const lienthong::config::v1::GatewayConfig& config,
                          const StepInvoker& invoker) {
  LIENTHONG_RETURN_IF_ERROR(CheckDefinitions(config.bundles(), invoker));
  LIENTHONG_RETURN_IF_ERROR(OpenCalendar(config.bundles()).status());
  if (!config.bundles().key_file().empty()) {
    absl::StatusOr<std::string> key =
        sync::ReadOutboxKeyFile(config.bundles().key_file());
    if (!key.ok()) {
      return config::AtConfigField("bundles.key_file", key.status());
    }
    OPENSSL_cleanse(key->data(), key->size());
  }
  return config::AtConfigField(
      "bundles.store_file",
      SqliteBundleStore::Check(StoreFile(config.bundles())));
}

}  // namespace lienthong::bundle
