#include "tests/gateway/bundle/bundle_test_util.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/sync/dossier_status.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace lienthong::bundle::testing {
namespace {

constexpr char kBirth[] = R"pb(
  kind: "BIRTH"
  title: "Liên thông khai sinh, thường trú, cấp thẻ BHYT cho trẻ em dưới 6 tuổi"
  procedure_code: "1.001193"
  field_code: "HOTICH"
  field_name: "Hộ tịch"
  deadline_working_days: 3
  verification_deadline_working_days: 5
  steps {
    name: "civil_status"
    title: "Đăng ký khai sinh"
    adapter: "civil-status"
    operation: "register_birth"
    agency: "UBND xã (hộ tịch)"
    procedure_code: "1.001193"
    subject: "data.mother.citizen_id"
    inputs { key: "child_full_name" value: "data.child.full_name" }
    inputs { key: "child_birth_date" value: "data.child.birth_date" }
    inputs { key: "child_gender" value: "data.child.gender" }
    inputs { key: "birth_place" value: "data.child.birth_place" }
    inputs { key: "registration_province" value: "data.address.province_code" }
    inputs { key: "mother_citizen_id" value: "data.mother.citizen_id" }
    inputs { key: "mother_full_name" value: "data.mother.full_name" }
    inputs { key: "father_citizen_id" value: "data.father.citizen_id" }
    inputs { key: "father_full_name" value: "data.father.full_name" }
  }
  steps {
    name: "residence"
    title: "Đăng ký thường trú"
    adapter: "residence"
    operation: "register_permanent_residence"
    agency: "Công an xã"
    after: "civil_status"
    deadline_working_days: 2
    subject: "steps.civil_status.citizen_id"
    inputs { key: "citizen_id" value: "steps.civil_status.citizen_id" }
    inputs { key: "full_name" value: "data.child.full_name" }
    inputs {
      key: "birth_certificate_number"
      value: "steps.civil_status.birth_certificate_number"
    }
    inputs { key: "province_code" value: "data.address.province_code" }
    inputs { key: "commune_code" value: "data.address.commune_code" }
    inputs { key: "address_detail" value: "data.address.detail" }
    inputs {
      key: "household_head_citizen_id"
      value: "data.household.head_citizen_id"
    }
    inputs {
      key: "household_relationship"
      value: "data.household.relationship"
    }
  }
  steps {
    name: "health_insurance"
    title: "Cấp thẻ BHYT cho trẻ em dưới 6 tuổi"
    adapter: "social-insurance"
    operation: "issue_child_health_card"
    agency: "Bảo hiểm xã hội tỉnh"
    after: "civil_status"
    deadline_working_days: 2
    subject: "steps.civil_status.citizen_id"
    inputs { key: "citizen_id" value: "steps.civil_status.citizen_id" }
    inputs { key: "full_name" value: "data.child.full_name" }
    inputs { key: "birth_date" value: "data.child.birth_date" }
    inputs { key: "gender" value: "data.child.gender" }
    inputs {
      key: "birth_certificate_number"
      value: "steps.civil_status.birth_certificate_number"
    }
    inputs { key: "province_code" value: "data.address.province_code" }
    inputs { key: "commune_code" value: "data.address.commune_code" }
    inputs { key: "address_detail" value: "data.address.detail" }
    inputs { key: "guardian_citizen_id" value: "data.mother.citizen_id" }
    inputs { key: "guardian_full_name" value: "data.mother.full_name" }
  }
)pb";

constexpr char kDeath[] = R"pb(
  kind: "DEATH"
  title: "Liên thông khai tử, xóa đăng ký thường trú, trợ cấp mai táng"
  procedure_code: "1.000656"
  field_code: "HOTICH"
  field_name: "Hộ tịch"
  steps {
    name: "civil_status"
    title: "Đăng ký khai tử"
    adapter: "civil-status"
    operation: "register_death"
    agency: "UBND xã (hộ tịch)"
    subject: "data.deceased.citizen_id"
    inputs { key: "deceased_citizen_id" value: "data.deceased.citizen_id" }
    inputs { key: "deceased_full_name" value: "data.deceased.full_name" }
    inputs { key: "death_date" value: "data.deceased.death_date" }
    inputs { key: "death_place" value: "data.deceased.death_place" }
    inputs { key: "declarant_citizen_id" value: "data.applicant.citizen_id" }
    inputs { key: "declarant_full_name" value: "data.applicant.full_name" }
    inputs {
      key: "declarant_relationship"
      value: "data.applicant.relationship"
    }
  }
  steps {
    name: "residence"
    title: "Xóa đăng ký thường trú"
    adapter: "residence"
    operation: "remove_permanent_residence"
    agency: "Công an xã"
    after: "civil_status"
    deadline_working_days: 2
    subject: "data.deceased.citizen_id"
    inputs { key: "citizen_id" value: "data.deceased.citizen_id" }
    inputs { key: "full_name" value: "data.deceased.full_name" }
    inputs {
      key: "death_certificate_number"
      value: "steps.civil_status.death_certificate_number"
    }
  }
  steps {
    name: "funeral_allowance"
    title: "Trợ cấp mai táng"
    adapter: "labour-affairs"
    operation: "grant_funeral_allowance"
    agency: "UBND xã (chính sách xã hội)"
    procedure_code: "1.011537"
    after: "civil_status"
    subject: "data.deceased.citizen_id"
    inputs { key: "deceased_citizen_id" value: "data.deceased.citizen_id" }
    inputs { key: "deceased_full_name" value: "data.deceased.full_name" }
    inputs {
      key: "death_certificate_number"
      value: "steps.civil_status.death_certificate_number"
    }
    inputs { key: "recipient_citizen_id" value: "data.applicant.citizen_id" }
    inputs { key: "recipient_full_name" value: "data.applicant.full_name" }
    inputs {
      key: "recipient_relationship"
      value: "data.applicant.relationship"
    }
  }
)pb";

lienthong::config::v1::BundleDefinition Parse(const char* text) {
  lienthong::config::v1::BundleDefinition definition;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &definition));
  return definition;
}

google::type::Date Today() {
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(7 * 3600));
  google::type::Date date;
  date.set_year(static_cast<int>(today.year()));
  date.set_month(today.month());
  date.set_day(today.day());
  return date;
}

}  // namespace

lienthong::config::v1::BundleDefinition BirthDefinition() { return Parse(kBirth); }
lienthong::config::v1::BundleDefinition DeathDefinition() { return Parse(kDeath); }

lienthong::v1::StartBundleRequest BirthRequest(const std::string& dossier) {
  lienthong::v1::StartBundleRequest r;
  r.set_kind(lienthong::v1::BIRTH);
  r.set_dossier_code(dossier);
  r.mutable_officer()->set_citizen_id(kApplicantId);
  r.mutable_officer()->set_unit_code("000.00.31.H31");
  r.mutable_officer()->set_account("canbo.hotich");
  r.mutable_applicant()->set_citizen_id(kMotherId);
  r.mutable_applicant()->set_full_name("Mẹ của trẻ");
  r.mutable_applicant()->set_relationship("mẹ");
  auto& b = *r.mutable_birth();
  b.set_child_full_name("Nguyễn Minh Khang");
  *b.mutable_child_birth_date() = Today();
  b.set_child_gender(lienthong::v1::GENDER_MALE);
  b.set_birth_place("Bệnh viện Đa khoa tỉnh Hưng Yên");
  b.mutable_mother()->set_citizen_id(kMotherId);
  b.mutable_mother()->set_full_name("Mẹ của trẻ");
  b.mutable_permanent_address()->set_province_code("33");
  b.mutable_permanent_address()->set_commune_code("12103");
  b.mutable_permanent_address()->set_detail("Thôn 3");
  b.set_household_head_citizen_id(kMotherId);
  b.set_household_relationship("con");
  return r;
}

lienthong::v1::StartBundleRequest DeathRequest(const std::string& dossier) {
  lienthong::v1::StartBundleRequest r;
  r.set_kind(lienthong::v1::DEATH);
  r.set_dossier_code(dossier);
  r.mutable_officer()->set_citizen_id(kApplicantId);
  r.mutable_officer()->set_unit_code("000.00.31.H31");
  r.mutable_applicant()->set_citizen_id(kApplicantId);
  r.mutable_applicant()->set_full_name("Con của người mất");
  r.mutable_applicant()->set_relationship("con");
  auto& d = *r.mutable_death();
  d.mutable_deceased()->set_citizen_id(kDeceasedId);
  d.mutable_deceased()->set_full_name("Người đã mất");
  *d.mutable_death_date() = Today();
  d.set_death_place("Tại nhà");
  return r;
}

std::vector<adapters::StepOperation> OperationsOf(absl::string_view adapter) {
  if (adapter == "civil-status") {
    return {{"register_birth",
             {"child_full_name", "child_birth_date", "child_gender",
              "registration_province", "mother_citizen_id", "mother_full_name"},
             {"father_citizen_id", "father_full_name", "birth_place"},
             {"birth_certificate_number", "citizen_id"}},
            {"register_death",
             {"deceased_citizen_id", "deceased_full_name", "death_date",
              "declarant_citizen_id", "declarant_full_name"},
             {"death_place", "declarant_relationship"},
             {"death_certificate_number"}}};
  }
  if (adapter == "residence") {
    return {{"register_permanent_residence",
             {"citizen_id", "full_name", "birth_certificate_number",
              "province_code", "commune_code", "address_detail"},
             {"household_head_citizen_id", "household_relationship"},
             {"residence_registration_number"}},
            {"remove_permanent_residence",
             {"citizen_id", "full_name", "death_certificate_number"},
             {"reason"},
             {"removal_number"}}};
  }
  if (adapter == "social-insurance") {
    return {{"issue_child_health_card",
             {"citizen_id", "full_name", "birth_date", "gender",
              "birth_certificate_number", "province_code"},
             {"commune_code", "address_detail", "guardian_citizen_id",
              "guardian_full_name"},
             {"social_insurance_number", "health_card_number", "valid_from",
              "valid_to"}}};
  }
  if (adapter == "labour-affairs") {
    return {{"grant_funeral_allowance",
             {"deceased_citizen_id", "deceased_full_name",
              "death_certificate_number", "recipient_citizen_id",
              "recipient_full_name"},
             {"recipient_relationship"},
             {"decision_number", "amount_vnd"}}};
  }
  return {};
}

FakeInvoker::FakeInvoker() = default;

absl::StatusOr<std::vector<adapters::StepOperation>> FakeInvoker::Operations(
    absl::string_view adapter) const {
  std::vector<adapters::StepOperation> ops = OperationsOf(adapter);
  if (ops.empty()) return absl::NotFoundError("no such adapter");
  return ops;
}

absl::StatusOr<adapters::StepOutcome> FakeInvoker::Apply(
    const adapters::StepRequest& request) {
  adapters::StepOutcome outcome;
  for (const char* adapter :
       {"civil-status", "residence", "social-insurance", "labour-affairs"}) {
    for (const adapters::StepOperation& op : OperationsOf(adapter)) {
      if (op.name != request.operation) continue;
      for (const std::string& out : op.outputs) {
        outcome.outputs[out] = out == "citizen_id"
                                   ? std::string("033226100042")
                                   : absl::StrCat(out, "-", request.idempotency_key);
      }
    }
  }
  return outcome;
}

void FakeInvoker::Invoke(absl::string_view adapter, adapters::StepRequest request,
                         const adapters::CallContext& context, Done done) {
  Agency agency;
  {
    absl::MutexLock lock(&mu_);
    calls_.push_back({std::string(adapter), request});
    if (hold_ || held_adapters_.count(std::string(adapter)) > 0) {
      held_.push_back({std::string(adapter), std::move(request), std::move(done)});
      return;
    }
    auto it = agencies_.find(std::string(adapter));
    if (it != agencies_.end()) agency = it->second;
  }
  absl::StatusOr<adapters::StepOutcome> outcome =
      agency ? agency(request) : Apply(request);
  if (outcome.ok() && outcome->kind == adapters::StepOutcome::Kind::kDone) {
    absl::MutexLock lock(&mu_);
    ++applied_[request.idempotency_key];
  }
  std::move(done)(std::move(outcome), 1);
}

void FakeInvoker::SetAgency(const std::string& adapter, Agency agency) {
  absl::MutexLock lock(&mu_);
  agencies_[adapter] = std::move(agency);
}

void FakeInvoker::Hold(bool hold) {
  absl::MutexLock lock(&mu_);
  hold_ = hold;
}

void FakeInvoker::HoldAdapter(const std::string& adapter) {
  absl::MutexLock lock(&mu_);
  held_adapters_.insert(adapter);
}

void FakeInvoker::Release() { ReleaseWith(&FakeInvoker::Apply); }

void FakeInvoker::ReleaseWith(const Agency& agency) {
  std::vector<Held> held;
  {
    absl::MutexLock lock(&mu_);
    held.swap(held_);
    hold_ = false;
    held_adapters_.clear();
  }
  for (Held& h : held) {
    absl::StatusOr<adapters::StepOutcome> outcome = agency(h.request);
    std::move(h.done)(std::move(outcome), 1);
  }
}

std::vector<ReceivedCall> FakeInvoker::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

std::map<std::string, int> FakeInvoker::applied_per_key() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

int FakeSink::failed_pushes() const {
  absl::MutexLock lock(&mu_);
  return failed_pushes_;
}

absl::Status FakeSink::Push(absl::Span<const ProgressUpdate> updates) {
  absl::MutexLock lock(&mu_);
  if (failing_) {
    ++failed_pushes_;
    return absl::UnavailableError("outbox store: disk full");
  }
  std::vector<ProgressUpdate> accepted;
  int duplicates = 0;
  for (const ProgressUpdate& u : updates) {
    // The last accepted update of this dossier, from what is kept and
    // what this batch adds.
    const ProgressUpdate* last = nullptr;
    for (const auto* list : {&queued_, &accepted}) {
      for (const ProgressUpdate& q : *list) {
        if (q.dossier_code == u.dossier_code) last = &q;
      }
    }
    bool repeat = false;
    for (const ProgressUpdate& q : queued_) {
      repeat = repeat || (q.dossier_code == u.dossier_code &&
                          q.status == u.status && q.time == u.time);
    }
    if (repeat) {
      ++duplicates;
      continue;
    }
    if (last == nullptr && !u.registration.has_value()) {
      return absl::InvalidArgumentError(
          "updates[0].registration: required with a dossier's first update");
    }
    std::optional<lienthong::v1::DossierStatus> from;
    if (last != nullptr) from = last->status;
    absl::Status allowed = sync::CheckTransition(u.dossier_code, from, u.status);
    if (!allowed.ok()) return allowed;
    if (last != nullptr && u.time < last->time) {
      return absl::FailedPreconditionError("time goes back");
    }
    accepted.push_back(u);
  }
  queued_.insert(queued_.end(), accepted.begin(), accepted.end());
  duplicates_ += duplicates;
  return absl::OkStatus();
}

void FakeSink::SetFailing(bool failing) {
  absl::MutexLock lock(&mu_);
  failing_ = failing;
}

std::vector<ProgressUpdate> FakeSink::queued() const {
  absl::MutexLock lock(&mu_);
  return queued_;
}

int FakeSink::duplicates() const {
  absl::MutexLock lock(&mu_);
  return duplicates_;
}

}  // namespace lienthong::bundle::testing
