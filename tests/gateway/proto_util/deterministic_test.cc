#include "gateway/proto_util/deterministic.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace lienthong::proto_util {
namespace {

// A map filled in opposite orders gives the same bytes, appended to what
// the buffer held, and they read back as the map.
TEST(DeterministicTest, AMapFilledInAnyOrderGivesTheSameBytes) {
  google::protobuf::Struct forward;
  google::protobuf::Struct backward;
  constexpr int kKeys = 64;
  for (int i = 0; i < kKeys; ++i) {
    (*forward.mutable_fields())[absl::StrCat("k", i)].set_number_value(i);
    const int j = kKeys - 1 - i;
    (*backward.mutable_fields())[absl::StrCat("k", j)].set_number_value(j);
  }
  std::string a = "prefix:";
  std::string b = "prefix:";
  ASSERT_TRUE(AppendDeterministic(forward, &a));
  ASSERT_TRUE(AppendDeterministic(backward, &b));
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.substr(0, 7), "prefix:");
  google::protobuf::Struct parsed;
  ASSERT_TRUE(parsed.ParseFromString(a.substr(7)));
  ASSERT_EQ(parsed.fields_size(), kKeys);
  EXPECT_EQ(parsed.fields().at("k42").number_value(), 42);
}

}  // namespace
}  // namespace lienthong::proto_util
