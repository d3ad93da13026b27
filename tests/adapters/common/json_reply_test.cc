#include "adapters/common/json_reply.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;

TEST(NestedDeeperThanTest, CountsBracketsOutsideStrings) {
  EXPECT_FALSE(NestedDeeperThan(R"({"a": [1, {"b": []}]})", 4));
  EXPECT_TRUE(NestedDeeperThan(R"({"a": [1, {"b": [[]]}]})", 4));
  EXPECT_FALSE(NestedDeeperThan("", 0));
  EXPECT_TRUE(NestedDeeperThan("[", 0));
  // Brackets inside strings, either quote, escaped quotes included.
  EXPECT_FALSE(NestedDeeperThan(R"({"a": "[[[[{{{{"})", 1));
  EXPECT_FALSE(NestedDeeperThan(R"({"a": 'x\' [[[[ '})", 1));
  EXPECT_FALSE(NestedDeeperThan(R"({"a": "\" [[[[ \\"})", 1));
  // Closing brackets beyond the opened ones buy no depth.
  EXPECT_TRUE(NestedDeeperThan("]]]][[", 1));
  EXPECT_FALSE(NestedDeeperThan("[]][", 1));
}

TEST(ParseJsonReplyTest, RefusesDeepNestingFastAndParsesTheRest) {
  google::protobuf::Struct out;
  ASSERT_THAT(ParseJsonReply(R"({"a": {"b": [1, 2]}})", &out), IsOk());
  EXPECT_EQ(out.fields()
                .at("a")
                .struct_value()
                .fields()
                .at("b")
                .list_value()
                .values_size(),
            2);
  // A megabyte of nesting: protobuf's parser would take hours over it.
  const std::string deep =
      "{\"a\":" + std::string(500000, '[') + std::string(500000, ']') + "}";
  EXPECT_THAT(
      ParseJsonReply(deep, &out),
      StatusIs(absl::StatusCode::kInvalidArgument, "nested more than 32 deep"));
  EXPECT_EQ(out.fields_size(), 0);  // cleared
  // As deep as a Struct holds, and one more.
  const int n = kMaxJsonReplyDepth - 1;
  EXPECT_THAT(
      ParseJsonReply(
          "{\"a\":" + std::string(n, '[') + std::string(n, ']') + "}", &out),
      IsOk());
  EXPECT_THAT(
      ParseJsonReply(
          "{\"a\":" + std::string(n + 1, '[') + std::string(n + 1, ']') + "}",
          &out),
      StatusIs(absl::StatusCode::kInvalidArgument, "nested more than 32 deep"));
  EXPECT_THAT(ParseJsonReply("<html>", &out),
              StatusIs(absl::StatusCode::kInvalidArgument, "not JSON"));
  EXPECT_THAT(ParseJsonReply(R"({"a": 1})", &out), IsOk());
}

}  // namespace
}  // namespace lienthong::adapters
