// What /readyz shows for a failed readiness check (gateway/admin/readiness.h):
// the component a check names, never its message.
#include "gateway/admin/readiness.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDetail[] =
    "outbox database unreachable: connection to server at \"pg.internal\" "
    "(10.2.3.4), port 5432 failed: FATAL: role \"sync_rw\" does not exist";

TEST(ReadinessTest, AMarkedFailureNamesItsComponentOnly) {
  const absl::Status marked = MarkNotReadyComponent(
      absl::UnavailableError(kDetail), "portal sync outbox");
  EXPECT_EQ(NotReadyText(marked), "not ready: portal sync outbox unavailable");
  // The mark travels with the status; the status itself is unchanged.
  const absl::Status copy = marked;
  EXPECT_EQ(NotReadyText(copy), "not ready: portal sync outbox unavailable");
  EXPECT_EQ(marked.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(marked.message(), kDetail);
}

TEST(ReadinessTest, AnUnmarkedFailureSaysOnlyNotReady) {
  for (const absl::Status& status :
       {absl::UnavailableError(kDetail), absl::UnavailableError(""),
        absl::InternalError("the readiness check failed")}) {
    EXPECT_EQ(NotReadyText(status), "not ready") << status;
  }
}

// A mark made from a message by mistake is no name: it is not shown.
TEST(ReadinessTest, AMarkThatIsNoPlainNameIsNotShown) {
  const std::string kNotNames[] = {
      "",
      kDetail,
      "host=pg.internal user=sync_rw",
      "/var/lib/lienthong/audit.db",
      "audit 'index'",
      "audit\nindex",
      std::string(65, 'a'),
  };
  for (const std::string& component : kNotNames) {
    const std::string text = NotReadyText(
        MarkNotReadyComponent(absl::UnavailableError(kDetail), component));
    EXPECT_EQ(text, "not ready") << component;
    EXPECT_THAT(text, Not(HasSubstr("pg.internal")));
  }
  EXPECT_EQ(NotReadyText(MarkNotReadyComponent(absl::UnavailableError("x"),
                                               std::string(64, 'a'))),
            absl::StrCat("not ready: ", std::string(64, 'a'), " unavailable"));
  EXPECT_EQ(NotReadyText(MarkNotReadyComponent(absl::UnavailableError("x"),
                                               "national system c06-soap_2.1")),
            "not ready: national system c06-soap_2.1 unavailable");
}

TEST(ReadinessTest, TheLastMarkWinsAndOkStaysOk) {
  const absl::Status twice = MarkNotReadyComponent(
      MarkNotReadyComponent(absl::UnavailableError(kDetail), "audit index"),
      "audit log");
  EXPECT_EQ(NotReadyText(twice), "not ready: audit log unavailable");
  const absl::Status ok = MarkNotReadyComponent(absl::OkStatus(), "audit log");
  EXPECT_TRUE(ok.ok());
  EXPECT_FALSE(ok.GetPayload(kNotReadyComponentTypeUrl).has_value());
}

}  // namespace
}  // namespace lienthong::admin
