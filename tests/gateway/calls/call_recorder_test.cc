// The one call recorder: metrics labels, the common audit fields, and the
// answer released only once every record of a call is durable.
#include "gateway/calls/call_recorder.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gateway/audit/audit_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::calls {
namespace {

using ::lienthong::audit::testutil::FaultyIo;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;

constexpr char kMethod[] = "lienthong.v1.PortalSyncService/PushDossierStatus";

Call TestCall() {
  Call call(kMethod, {"spiffe://lienthong.local/dossier-system", "ab12"});
  call.system = "portal";
  call.start = absl::Now() - absl::Milliseconds(3);
  return call;
}

// Runs AuditThenRelease and waits for its release.
absl::Status Release(const CallRecorder& recorder,
                     std::vector<lienthong::v1::AuditRecord> records,
                     const absl::Status& answer) {
  absl::Notification done;
  absl::Status released;
  recorder.AuditThenRelease(std::move(records), answer,
                            [&](absl::Status status) {
                              released = std::move(status);
                              done.Notify();
                            });
  done.WaitForNotificationWithTimeout(absl::Seconds(10));
  EXPECT_TRUE(done.HasBeenNotified());
  return released;
}

TEST(CallRecorderTest, CountsCallsByMethodClientSystemAndCode) {
  metrics::Registry registry;
  CallMetrics metrics(registry);
  CallRecorder recorder({&metrics, nullptr, true, "gw-1"});
  recorder.Log(TestCall(), absl::OkStatus());
  recorder.Log(TestCall(), absl::OkStatus(), {{"dossier", "000.00.01.H31"}});
  recorder.Log(TestCall(), absl::PermissionDeniedError("no"));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "lienthong_calls_total{method=\"", kMethod,
                        "\",client=\"spiffe://lienthong.local/dossier-system\","
                        "system=\"portal\",code=\"OK\"} 2")));
  EXPECT_THAT(text, HasSubstr("code=\"PERMISSION_DENIED\"} 1"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "lienthong_call_duration_seconds_count{method=\"",
                        kMethod, "\",system=\"portal\"} 3")));
}

TEST(CallRecorderTest, RecordHoldsWhatEveryCallHas) {
  CallRecorder recorder({nullptr, nullptr, true, "gw-1"});
  const lienthong::v1::AuditRecord record =
      recorder.Record(TestCall(), absl::NotFoundError("x"));
  EXPECT_EQ(record.node(), "gw-1");
  EXPECT_EQ(record.caller(), "spiffe://lienthong.local/dossier-system");
  EXPECT_EQ(record.caller_cert_sha256(), "ab12");
  EXPECT_EQ(record.method(), kMethod);
  EXPECT_EQ(record.national_system(), "portal");
  EXPECT_EQ(record.outcome(), "NOT_FOUND");
  EXPECT_GE(record.latency_us(), 3000);
}

TEST(CallRecorderTest, WithoutAnAuditLogTheAnswerGoesAtOnce) {
  CallRecorder recorder({nullptr, nullptr, true, ""});
  EXPECT_FALSE(recorder.audited());
  EXPECT_EQ(Release(recorder, {lienthong::v1::AuditRecord()},
                    absl::AlreadyExistsError("dup")),
            absl::AlreadyExistsError("dup"));
}

TEST(CallRecorderTest, AnswerWaitsForEveryRecordAndIsWithheldIfOneFails) {
  ScratchDir dir;
  audit::AuditLog::Options options = TestOptions(dir);
  options.max_batch = 1;  // a write per record: the failing one fails alone
  FaultyIo io;
  io.FailWritesContaining("dossier-B");
  options.io = &io;
  auto log = audit::AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  CallRecorder recorder({nullptr, log->get(), true, "gw-1"});
  auto records = [&](std::vector<std::string> dossiers) {
    std::vector<lienthong::v1::AuditRecord> out;
    for (const std::string& d : dossiers) {
      out.push_back(recorder.Record(TestCall(), absl::OkStatus()));
      out.back().set_dossier_id(d);
    }
    return out;
  };
  EXPECT_THAT(Release(recorder, records({"dossier-A", "dossier-C"}),
                      absl::OkStatus()),
              IsOk());
  const absl::Status withheld = Release(
      recorder, records({"dossier-D", "dossier-B", "dossier-E"}),
      absl::OkStatus());
  EXPECT_EQ(withheld.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(withheld.message(), audit::kAnswerWithheld);
  (void)(*log)->Close();
}

TEST(CallRecorderTest, AWithheldAnswerGetsALineAndACountOfItsOwn) {
  ScratchDir dir;
  audit::AuditLog::Options options = TestOptions(dir);
  FaultyIo io;
  io.FailWritesContaining("dossier-B");
  options.io = &io;
  auto log = audit::AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  metrics::Registry registry;
  CallMetrics metrics(registry);
  CallRecorder recorder({&metrics, log->get(), true, "gw-1"});
  auto record = [&](const std::string& dossier) {
    std::vector<lienthong::v1::AuditRecord> out = {
        recorder.Record(TestCall(), absl::OkStatus())};
    out.back().set_dossier_id(dossier);
    return out;
  };
  ::testing::internal::CaptureStderr();
  EXPECT_THAT(Release(recorder, record("dossier-A"), absl::OkStatus()), IsOk());
  const absl::Status withheld =
      Release(recorder, record("dossier-B"), absl::OkStatus());
  const std::string lines = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(withheld.message(), audit::kAnswerWithheld);
  // One line, naming the code the caller got and the one withheld.
  EXPECT_THAT(lines, HasSubstr("\"code\":\"UNAVAILABLE\",\"withheld\":\"OK\""));
  EXPECT_EQ(lines.find("\"withheld\""), lines.rfind("\"withheld\""));
  EXPECT_THAT(registry.Render(),
              HasSubstr(absl::StrCat(
                  "lienthong_answers_withheld_total{method=\"", kMethod,
                  "\",client=\"spiffe://lienthong.local/dossier-system\"} 1")));
  (void)(*log)->Close();
}

// A stream's refusals (WatchBundle's) are coalesced as a unary call's are:
// a client with no rights cannot fill the journal by asking again.
TEST(CallRecorderTest, AStreamsRefusalsAreCoalesced) {
  ScratchDir dir;
  audit::AuditLog::Options options = TestOptions(dir);
  options.coalesce_window = absl::Hours(1);  // one window for the test
  auto log = audit::AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  CallRecorder recorder({nullptr, log->get(), true, "gw-1"});
  const Call call("lienthong.v1.BundleService/WatchBundle",
                  {"spiffe://lienthong.local/no-rights", "ab12"});
  for (int i = 0; i < 50; ++i) {
    recorder.AuditThenRelease(
        recorder.Record(call, absl::PermissionDeniedError("no")),
        absl::PermissionDeniedError("no"), [](absl::Status) {});
  }
  recorder.AuditThenRelease(recorder.Record(call, absl::OkStatus()),
                            absl::OkStatus(), [](absl::Status) {});
  ASSERT_THAT((*log)->Close(), IsOk());
  EXPECT_EQ((*log)->stats().refusals_coalesced, 49u);
}

}  // namespace
}  // namespace lienthong::calls
