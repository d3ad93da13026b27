#include "tests/bench/load_generator.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"

namespace lienthong::bench {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::UNKNOWN:
      return "UNKNOWN";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::ABORTED:
      return "ABORTED";
    case grpc::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::INTERNAL:
      return "INTERNAL";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

// Shared state of one run. Calls complete on gRPC's threads.
class Run {
 public:
  Run(const std::shared_ptr<grpc::Channel>& channel, const LoadOptions& o)
      : options_(o),
        population_(lienthong::v1::PopulationService::NewStub(channel)),
        identity_(lienthong::v1::IdentityService::NewStub(channel)) {}

  LoadResult Go() {
    if (options_.warmup_calls > 0) {
      Phase(options_.warmup_calls, absl::InfiniteDuration(), /*record=*/false);
    }
    double cpu0 = CpuSeconds();
    absl::Time t0 = absl::Now();
    Phase(options_.total_calls, options_.duration, /*record=*/true);
    LoadResult r;
    r.seconds = absl::ToDoubleSeconds(absl::Now() - t0);
    double cpu = CpuSeconds() - cpu0;
    std::lock_guard<std::mutex> lock(mu_);
    r.calls = static_cast<int64_t>(latencies_us_.size());
    r.errors_by_code = errors_;
    r.ok = ok_;
    r.calls_per_second = r.seconds > 0 ? r.calls / r.seconds : 0;
    r.client_cpu_us_per_call = r.calls > 0 ? cpu * 1e6 / r.calls : 0;
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) {
      if (latencies_us_.empty()) return 0.0;
      size_t i = std::min(latencies_us_.size() - 1,
                          static_cast<size_t>(p * latencies_us_.size()));
      return latencies_us_[i];
    };
    r.p50_us = pct(0.50);
    r.p90_us = pct(0.90);
    r.p99_us = pct(0.99);
    r.p999_us = pct(0.999);
    r.max_us = latencies_us_.empty() ? 0 : latencies_us_.back();
    return r;
  }

 private:
  // Runs calls until `limit` calls (0 = no limit) or `duration` passed.
  void Phase(int64_t limit, absl::Duration duration, bool record) {
    record_ = record;
    started_ = 0;
    in_flight_ = 0;
    stop_at_ = duration == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                    : absl::Now() + duration;
    limit_ = limit;
    if (options_.rate > 0) {
      absl::Duration gap = absl::Seconds(1) / options_.rate;
      absl::Time next = absl::Now();
      while (MayStart()) {
        absl::SleepFor(next - absl::Now());  // pacing the open loop
        next += gap;
        StartOne();
      }
    } else {
      for (int i = 0; i < options_.concurrency && MayStart(); ++i) StartOne();
    }
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return in_flight_ == 0 && !MayStartLocked(); });
  }

  bool MayStartLocked() const {
    return (limit_ == 0 || started_ < limit_) && absl::Now() < stop_at_;
  }
  bool MayStart() {
    std::lock_guard<std::mutex> lock(mu_);
    return MayStartLocked();
  }

  struct Call {
    grpc::ClientContext context;
    lienthong::v1::LookupCitizenRequest lookup;
    lienthong::v1::Citizen citizen;
    lienthong::v1::VerifyIdentityRequest verify;
    lienthong::v1::VerifyIdentityResponse verified;
    absl::Time start;
  };

  void StartOne() {
    int64_t n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!MayStartLocked()) return;
      n = started_++;
      ++in_flight_;
    }
    auto* call = new Call();
    call->context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.deadline));
    call->start = absl::Now();
    auto done = [this, call](grpc::Status status) { Finish(call, status); };
    if (options_.method == "verify") {
      call->verify.set_citizen_id(SyntheticCitizenId(n));
      call->verify.set_full_name("Nguyễn Văn An");
      call->verify.set_purpose(options_.purpose);
      *call->verify.mutable_officer() = options_.officer;
      identity_->async()->VerifyIdentity(&call->context, &call->verify,
                                         &call->verified, done);
    } else {
      call->lookup.set_citizen_id(SyntheticCitizenId(n));
      call->lookup.set_purpose(options_.purpose);
      call->lookup.set_dossier_id("000.00.01.H31-251127-00001");
      *call->lookup.mutable_officer() = options_.officer;
      for (const auto& f : options_.fields)
        call->lookup.mutable_fields()->add_paths(f);
      population_->async()->LookupCitizen(&call->context, &call->lookup,
                                          &call->citizen, done);
    }
  }

  void Finish(Call* call, const grpc::Status& status) {
    double us = absl::ToDoubleMicroseconds(absl::Now() - call->start);
    delete call;
    bool again;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (record_) {
        latencies_us_.push_back(us);
        if (status.ok()) {
          ++ok_;
        } else {
          ++errors_[CodeName(status.error_code())];
        }
      }
      --in_flight_;
      again = options_.rate <= 0 && MayStartLocked();
      if (!again && in_flight_ == 0) done_cv_.notify_all();
    }
    if (again) StartOne();
  }

  const LoadOptions options_;
  std::unique_ptr<lienthong::v1::PopulationService::Stub> population_;
  std::unique_ptr<lienthong::v1::IdentityService::Stub> identity_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool record_ = false;
  int64_t started_ = 0;
  int64_t in_flight_ = 0;
  int64_t limit_ = 0;
  absl::Time stop_at_;
  int64_t ok_ = 0;
  std::map<std::string, int64_t> errors_;
  std::vector<double> latencies_us_;
};

}  // namespace

std::string LoadResult::Summary() const {
  std::string errors;
  for (const auto& [code, count] : errors_by_code) {
    absl::StrAppend(&errors, errors.empty() ? "" : ",", code, ":", count);
  }
  return absl::StrFormat(
      "calls=%d ok=%d errors=%s calls_per_s=%.0f p50_us=%.0f p90_us=%.0f "
      "p99_us=%.0f p999_us=%.0f max_us=%.0f client_cpu_us_per_call=%.1f",
      calls, ok, errors.empty() ? "none" : errors, calls_per_second, p50_us,
      p90_us, p99_us, p999_us, max_us, client_cpu_us_per_call);
}

LoadResult RunLoad(const std::shared_ptr<grpc::Channel>& channel,
                   const LoadOptions& options) {
  Run run(channel, options);
  return run.Go();
}

std::string SyntheticCitizenId(int64_t n) {
  // Hưng Yên (033), male born in the 1900s, birth year 60..99, and a serial
  // whose last three digits stay at 100..999 so the simulator finds it.
  int64_t year = 60 + n % 40;
  int64_t serial = (n / 40) % 900000;
  int64_t last3 = 100 + serial % 900;
  int64_t head3 = serial / 900 % 1000;
  return absl::StrFormat("0330%02d%03d%03d", year, head3, last3);
}

}  // namespace lienthong::bench
