#include "tests/gateway/audit/test_util.h"

#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/signing.h"

namespace lienthong::audit::testutil {

ScratchDir::ScratchDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string pattern = absl::StrCat(base, "/lienthong-audit-XXXXXX");
  char* made = ::mkdtemp(pattern.data());
  path_ = made != nullptr ? made : "";
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDir::File(const std::string& name) const {
  return absl::StrCat(path_, "/", name);
}

AuditLog::Options TestOptions(const ScratchDir& dir) {
  AuditLog::Options options;
  options.path = dir.File("audit.db");
  options.node = "gw-test";
  options.signing_key_file = dir.File("signing.pem");
  if (!std::filesystem::exists(options.signing_key_file)) {
    GenerateSigningKeyFile(options.signing_key_file).IgnoreError();
  }
  options.hmac_key = kTestHmacKey;
  return options;
}

std::string CitizenIdFor(uint64_t i) {
  // Province 033 (Hưng Yên), male born 1985, six digits.
  return absl::StrFormat("03308501%04d", static_cast<int>(i % 97));
}

AuditRecord SampleRecord(uint64_t i, const CitizenKey& key) {
  static constexpr const char* kCallers[] = {
      "spiffe://lienthong.local/dossier-system",
      "spiffe://lienthong.local/citizen-portal",
      "spiffe://lienthong.local/district-app"};
  static constexpr const char* kMethods[] = {
      "lienthong.v1.PopulationService/LookupCitizen",
      "lienthong.v1.IdentityService/VerifyIdentity"};
  static constexpr const char* kOutcomes[] = {
      "OK", "OK", "OK", "PERMISSION_DENIED", "UNAVAILABLE"};
  AuditRecord r;
  r.set_caller(kCallers[i % 3]);
  r.set_caller_cert_sha256(Sha256Hex(r.caller()));
  r.set_method(kMethods[i % 2]);
  r.set_purpose("1.001193");
  r.set_dossier_id(absl::StrFormat("000.00.01.H31-250715-%05d", i % 1000));
  key.Fill(CitizenIdFor(i), &r);
  r.set_national_system(i % 2 == 0 ? "population" : "vneid");
  r.set_outcome(kOutcomes[i % 5]);
  r.set_attempts(r.outcome() == "PERMISSION_DENIED" ? 0 : 1 + i % 3);
  r.set_latency_us(1000 + static_cast<int64_t>(i % 5000));
  r.set_request_sha256(Sha256Hex(absl::StrCat("request ", i)));
  if (r.outcome() == "OK") {
    r.set_response_sha256(Sha256Hex(absl::StrCat("response ", i)));
  }
  return r;
}

absl::Status AppendMany(AuditLog& log, uint64_t first, uint64_t count,
                        absl::Time base) {
  // Stay well under AuditLog::Options::max_pending.
  constexpr uint64_t kWindow = 20000;
  absl::Mutex mu;
  uint64_t in_flight = 0;
  absl::Status first_error;
  for (uint64_t i = first; i < first + count; ++i) {
    AuditRecord record = SampleRecord(i, log.citizen_key());
    if (base != absl::InfinitePast()) {
      ToProtoTime(base + absl::Seconds(i), record.mutable_time()).IgnoreError();
    }
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(
          +[](uint64_t* n) { return *n < kWindow; }, &in_flight));
      ++in_flight;
    }
    log.Append(std::move(record), [&](absl::Status status) {
      absl::MutexLock lock(&mu);
      if (!status.ok() && first_error.ok()) first_error = status;
      --in_flight;
    });
  }
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](uint64_t* n) { return *n == 0; }, &in_flight));
  return first_error;
}

void FaultyStore::Hold() {
  absl::MutexLock lock(&hold_mu_);
  held_ = true;
}

void FaultyStore::Release() {
  absl::MutexLock lock(&hold_mu_);
  held_ = false;
}

void FaultyStore::AwaitHeldWrite() {
  absl::MutexLock lock(&hold_mu_);
  hold_mu_.Await(absl::Condition(
      +[](int* waiting) { return *waiting > 0; }, &waiting_));
}

absl::Status FaultyStore::Write(absl::Span<const AuditRecord> records,
                                absl::Span<const AuditCheckpoint> checkpoints) {
  ++writes_;
  {
    absl::MutexLock lock(&hold_mu_);
    ++waiting_;
    hold_mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    --waiting_;
  }
  switch (mode_.load()) {
    case Mode::kPass:
      return store_->Write(records, checkpoints);
    case Mode::kFail:
      ++failed_writes_;
      return absl::UnavailableError("injected: disk gone");
    case Mode::kWriteThenFail:
      ++failed_writes_;
      store_->Write(records, checkpoints).IgnoreError();
      return absl::UnavailableError("injected: commit result lost");
  }
  return absl::InternalError("unknown mode");
}

}  // namespace lienthong::audit::testutil
