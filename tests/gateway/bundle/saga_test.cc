// The saga's rule for how a bundle ends, over its pure functions: a stop
// while steps are with their agencies is kept as a request and takes effect
// with the last of their answers; without such steps it takes effect at
// once; every step done completes the bundle.
#include "gateway/bundle/saga.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/bundle/bundle_data.h"
#include "gateway/bundle/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/bundle/bundle_test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::bundle {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kWithdrawn[] = "Người nộp hồ sơ rút hồ sơ";
constexpr int kCivilStatus = 0;
// Birth: residence and the health card; death: residence and the funeral
// allowance. Both follow civil status.
constexpr int kResidence = 1;
constexpr int kThird = 2;

const calendar::WorkingCalendar& Calendar() {
  static const calendar::WorkingCalendar* const kCalendar =
      new calendar::WorkingCalendar();
  return *kCalendar;
}

StepAnswer Done() {
  StepAnswer answer;
  answer.outputs = {{"citizen_id", "033226100042"},
                    {"birth_certificate_number", "KS.033.2026.000101"},
                    {"death_certificate_number", "KT.033.2026.000077"}};
  return answer;
}

StepAnswer Refused(const std::string& reason) {
  StepAnswer answer;
  answer.refused = true;
  answer.reason = reason;
  return answer;
}

// A new bundle of `definition` for `request` at `now`.
StoredBundle NewOf(lienthong::config::v1::BundleDefinition definition,
                   const v1::StartBundleRequest& request, absl::Time now) {
  NewBundleArgs args;
  args.id = "b-00000000000000a1";
  args.kind = request.kind();
  args.definition = std::move(definition);
  absl::StatusOr<BundleData> data = DataOfRequest(request, now);
  EXPECT_THAT(data, IsOk());
  if (data.ok()) args.data = *std::move(data);
  args.handler = "Hệ thống liên thông";
  args.due = now + absl::Hours(72);
  return NewBundle(std::move(args), now);
}

// A birth bundle whose civil status step is with its agency.
StoredBundle BirthAtCivilStatus(absl::Time now) {
  StoredBundle bundle =
      NewOf(testing::BirthDefinition(),
            testing::BirthRequest("000.00.31.H31-260105-00101"), now);
  EXPECT_THAT(ReadySteps(bundle), ElementsAre(kCivilStatus));
  StartStep(bundle, kCivilStatus, now, Calendar());
  return bundle;
}

// A death bundle whose civil status is done and whose residence and funeral
// allowance are with their agencies.
StoredBundle DeathAfterCivilStatus(absl::Time now) {
  StoredBundle bundle =
      NewOf(testing::DeathDefinition(),
            testing::DeathRequest("000.00.31.H31-260105-00102"), now);
  StartStep(bundle, kCivilStatus, now, Calendar());
  EXPECT_TRUE(RecordAnswer(bundle, kCivilStatus, 0, Done(), now));
  EXPECT_THAT(ReadySteps(bundle), ElementsAre(kResidence, kThird));
  StartStep(bundle, kResidence, now, Calendar());
  StartStep(bundle, kThird, now, Calendar());
  return bundle;
}

// The updates that stop the dossier, and the statuses of all.
int StopUpdates(const StoredBundle& bundle) {
  int stops = 0;
  for (const StoredProgress& p : bundle.progress()) {
    stops += p.status() == v1::STOPPED &&
             absl::StartsWith(p.note(), "Dừng liên thông: ");
  }
  return stops;
}

std::vector<int> Statuses(const StoredBundle& bundle) {
  std::vector<int> statuses;
  for (const StoredProgress& p : bundle.progress()) {
    statuses.push_back(p.status());
  }
  return statuses;
}

void ExpectInTimeOrder(const StoredBundle& bundle) {
  for (int k = 1; k < bundle.progress_size(); ++k) {
    EXPECT_LT(FromProtoTime(bundle.progress(k - 1).time()),
              FromProtoTime(bundle.progress(k).time()))
        << k;
  }
}

TEST(SagaStopTest, AStopWithAStepWithItsAgencyWaitsForItsAnswer) {
  absl::Time now = absl::Now();
  StoredBundle bundle = BirthAtCivilStatus(now);
  const int updates = bundle.progress_size();

  now += absl::Seconds(1);
  ASSERT_THAT(StopBundle(bundle, kWithdrawn, now), IsOk());
  EXPECT_TRUE(StopRequested(bundle));
  EXPECT_EQ(bundle.stop_reason(), kWithdrawn);
  EXPECT_EQ(bundle.state(), v1::BUNDLE_RUNNING);
  EXPECT_EQ(bundle.steps(kCivilStatus).state(), v1::STEP_RUNNING);
  EXPECT_FALSE(IsSet(bundle.finished()));
  EXPECT_EQ(bundle.progress_size(), updates);

  // Asked again: the first request stands.
  now += absl::Seconds(1);
  ASSERT_THAT(StopBundle(bundle, "Lý do khác", now), IsOk());
  EXPECT_EQ(bundle.stop_reason(), kWithdrawn);
  EXPECT_EQ(bundle.progress_size(), updates);

  now += absl::Seconds(1);
  ASSERT_TRUE(RecordAnswer(bundle, kCivilStatus, 0, Done(), now));
  EXPECT_EQ(bundle.state(), v1::BUNDLE_STOPPED);
  EXPECT_TRUE(IsSet(bundle.finished()));
  EXPECT_EQ(bundle.steps(kCivilStatus).state(), v1::STEP_DONE);
  EXPECT_EQ(bundle.steps(kCivilStatus).outputs().at("citizen_id"),
            "033226100042");
  // Residence and the health card would have been ready: skipped instead.
  EXPECT_EQ(bundle.steps(kResidence).state(), v1::STEP_SKIPPED);
  EXPECT_EQ(bundle.steps(kThird).state(), v1::STEP_SKIPPED);
  EXPECT_THAT(ReadySteps(bundle), IsEmpty());
  // The answer, then the stop.
  ASSERT_EQ(bundle.progress_size(), updates + 2);
  EXPECT_EQ(bundle.progress(updates).note(), "Đăng ký khai sinh: hoàn thành");
  EXPECT_EQ(bundle.progress(updates + 1).note(),
            absl::StrCat("Dừng liên thông: ", kWithdrawn));
  EXPECT_EQ(StopUpdates(bundle), 1);
  ExpectInTimeOrder(bundle);
  // Ended: another stop is refused, a late answer changes nothing.
  EXPECT_THAT(
      StopBundle(bundle, kWithdrawn, now),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("has ended")));
  EXPECT_FALSE(RecordAnswer(bundle, kCivilStatus, 0, Done(), now));
}

TEST(SagaStopTest, ARefusalAfterAStopRequestIsRecordedAndStopsTheBundle) {
  absl::Time now = absl::Now();
  StoredBundle bundle = BirthAtCivilStatus(now);
  ASSERT_THAT(StopBundle(bundle, kWithdrawn, now + absl::Seconds(1)), IsOk());
  ASSERT_TRUE(RecordAnswer(bundle, kCivilStatus, 0,
                           Refused("Thông tin của mẹ không khớp"),
                           now + absl::Seconds(2)));
  EXPECT_EQ(bundle.state(), v1::BUNDLE_STOPPED);
  EXPECT_EQ(bundle.steps(kCivilStatus).state(), v1::STEP_SKIPPED);
  EXPECT_EQ(bundle.steps(kCivilStatus).refusal_reason(),
            "Thông tin của mẹ không khớp");
  EXPECT_EQ(StopUpdates(bundle), 1);
  // The dossier is not said to wait for documents: it is being stopped.
  EXPECT_THAT(Statuses(bundle), ElementsAre(v1::PROCESSING, v1::PROCESSING,
                                            v1::PROCESSING, v1::STOPPED));
  ExpectInTimeOrder(bundle);
}

// The portal's note carries a refusal or a stop with citizen IDs masked;
// the bundle keeps the agency's words whole for the officer.
TEST(SagaStopTest, PortalNotesMaskTheCitizenIdsInAReason) {
  absl::Time now = absl::Now();
  StoredBundle bundle = BirthAtCivilStatus(now);
  const int updates = bundle.progress_size();
  const std::string refusal =
      "Số định danh 033190012345 của mẹ không khớp (CMND 123456789)";
  ASSERT_TRUE(RecordAnswer(bundle, kCivilStatus, 0, Refused(refusal),
                           now + absl::Seconds(1)));
  EXPECT_EQ(bundle.steps(kCivilStatus).refusal_reason(), refusal);
  ASSERT_EQ(bundle.progress_size(), updates + 1);
  EXPECT_EQ(bundle.progress(updates).note(),
            "Đăng ký khai sinh: bị từ chối: Số định danh 033*******45 của mẹ "
            "không khớp (CMND *******89)");

  ASSERT_THAT(
      StopBundle(bundle, "Mẹ (033190012345) rút hồ sơ", now + absl::Seconds(2)),
      IsOk());
  EXPECT_EQ(bundle.progress(bundle.progress_size() - 1).note(),
            "Dừng liên thông: Mẹ (033*******45) rút hồ sơ");
}

// A correction cannot leave a father's ID without his name (or the name
// without the ID): civil status takes them together and would refuse the
// step again.
TEST(SagaTest, ACorrectionKeepsTheFathersIdAndNameTogether) {
  absl::Time now = absl::Now();
  StoredBundle bundle = BirthAtCivilStatus(now);
  (*bundle.mutable_data())["father.citizen_id"] = "033088012345";
  (*bundle.mutable_data())["father.full_name"] = "Trần Văn Bình";
  now += absl::Seconds(1);
  ASSERT_TRUE(RecordAnswer(bundle, kCivilStatus, 0,
                           Refused("Thông tin của cha không khớp"), now));
  EXPECT_THAT(RetryStep(bundle, "civil_status", {{"father.full_name", ""}}, now,
                        Calendar()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("citizen_id and full_name go together")));
  EXPECT_EQ(bundle.data().at("father.full_name"), "Trần Văn Bình");
  EXPECT_EQ(bundle.steps(kCivilStatus).generation(), 0);
  // Both cleared, or both corrected, is fine.
  EXPECT_THAT(RetryStep(bundle, "civil_status",
                        {{"father.full_name", ""}, {"father.citizen_id", ""}},
                        now, Calendar()),
              IsOk());
  EXPECT_FALSE(bundle.data().contains("father.full_name"));
  EXPECT_EQ(bundle.steps(kCivilStatus).generation(), 1);
}

TEST(SagaStopTest, NoStepIsSentAgainWhileAStopWaits) {
  absl::Time now = absl::Now();
  StoredBundle bundle = DeathAfterCivilStatus(now);
  now += absl::Seconds(1);
  ASSERT_TRUE(RecordAnswer(bundle, kResidence, 0,
                           Refused("Không tìm thấy thông tin cư trú"), now));
  ASSERT_EQ(bundle.state(), v1::BUNDLE_WAITING_FOR_OFFICER);

  now += absl::Seconds(1);
  ASSERT_THAT(StopBundle(bundle, kWithdrawn, now), IsOk());
  // No officer can act on the refused step now.
  EXPECT_EQ(bundle.state(), v1::BUNDLE_RUNNING);
  EXPECT_THAT(RetryStep(bundle, "residence", {}, now, Calendar()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("a stop of the bundle was requested")));
  EXPECT_EQ(bundle.steps(kResidence).state(), v1::STEP_REFUSED);
  EXPECT_EQ(bundle.steps(kResidence).generation(), 0);

  now += absl::Seconds(1);
  ASSERT_TRUE(RecordAnswer(bundle, kThird, 0, Done(), now));
  EXPECT_EQ(bundle.state(), v1::BUNDLE_STOPPED);
  EXPECT_EQ(bundle.steps(kCivilStatus).state(), v1::STEP_DONE);
  EXPECT_EQ(bundle.steps(kResidence).state(), v1::STEP_SKIPPED);
  EXPECT_EQ(bundle.steps(kThird).state(), v1::STEP_DONE);
  EXPECT_EQ(StopUpdates(bundle), 1);
  ExpectInTimeOrder(bundle);
}

TEST(SagaStopTest, AStopWithNoStepWithItsAgencyTakesEffectAtOnce) {
  absl::Time now = absl::Now();
  StoredBundle bundle = BirthAtCivilStatus(now);
  ASSERT_TRUE(RecordAnswer(bundle, kCivilStatus, 0,
                           Refused("Thông tin của mẹ không khớp"),
                           now + absl::Seconds(1)));
  ASSERT_THAT(StopBundle(bundle, kWithdrawn, now + absl::Seconds(2)), IsOk());
  EXPECT_EQ(bundle.state(), v1::BUNDLE_STOPPED);
  EXPECT_TRUE(StopRequested(bundle));
  for (const StoredStep& step : bundle.steps()) {
    EXPECT_EQ(step.state(), v1::STEP_SKIPPED) << step.name();
  }
  EXPECT_EQ(StopUpdates(bundle), 1);
  EXPECT_EQ(Statuses(bundle).back(), v1::STOPPED);
  ExpectInTimeOrder(bundle);
}

// Every step left was with its agency and each applied it: nothing is left
// to stop, and the dossier is finished as its results exist.
TEST(SagaStopTest, AStopWhoseLastStepsAreAllAppliedCompletes) {
  absl::Time now = absl::Now();
  StoredBundle bundle = DeathAfterCivilStatus(now);
  ASSERT_THAT(StopBundle(bundle, kWithdrawn, now + absl::Seconds(1)), IsOk());
  ASSERT_TRUE(
      RecordAnswer(bundle, kResidence, 0, Done(), now + absl::Seconds(2)));
  EXPECT_EQ(bundle.state(), v1::BUNDLE_RUNNING);
  ASSERT_TRUE(RecordAnswer(bundle, kThird, 0, Done(), now + absl::Seconds(3)));
  EXPECT_EQ(bundle.state(), v1::BUNDLE_COMPLETED);
  EXPECT_TRUE(StopRequested(bundle));
  EXPECT_EQ(Statuses(bundle).back(), v1::FINISHED);
  EXPECT_EQ(StopUpdates(bundle), 0);
  ExpectInTimeOrder(bundle);
}

}  // namespace
}  // namespace lienthong::bundle
