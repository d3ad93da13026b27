// GoogleTest matchers for absl::Status and absl::StatusOr<T>:
//   EXPECT_THAT(DoIt(), IsOk());
//   EXPECT_THAT(Parse(x), IsOkAndHolds(Eq(3)));
//   EXPECT_THAT(Parse(y), StatusIs(absl::StatusCode::kInvalidArgument,
//                                  HasSubstr("12 digits")));
#ifndef LIENTHONG_TESTS_TESTING_STATUS_MATCHERS_H_
#define LIENTHONG_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace lienthong::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) +
               " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = GetStatus(arg);
  if (status.code() != code) {
    *result_listener << "status is " << status;
    return false;
  }
  return ::testing::ExplainMatchResult(
      message_matcher, std::string(status.message()), result_listener);
}

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_STATUS_MATCHERS_H_
