#include "gateway/proto_util/unknown_fields.h"

#include <string>

#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::proto_util {
namespace {

using lienthong::v1::Citizen;
using lienthong::v1::LookupCitizenRequest;

// Field 999, varint 7: a field no message here declares.
const std::string kUnknown = std::string("\xb8\x3e\x07", 3);

// `message`'s bytes with an unknown field appended, parsed back.
template <typename T>
T WithUnknown(const T& message) {
  T out;
  EXPECT_TRUE(out.ParseFromString(message.SerializeAsString() + kUnknown));
  return out;
}

TEST(UnknownFieldsTest, NoneInAKnownMessage) {
  Citizen citizen;
  citizen.set_citizen_id("001099012345");
  citizen.mutable_name()->set_full("Nguyễn Văn An");
  citizen.mutable_father()->set_citizen_id("001070012345");
  EXPECT_FALSE(HasUnknownFields(citizen));
  EXPECT_FALSE(HasUnknownFields(Citizen()));
}

TEST(UnknownFieldsTest, FoundAtTheTop) {
  Citizen citizen;
  citizen.set_citizen_id("001099012345");
  Citizen parsed = WithUnknown(citizen);
  EXPECT_TRUE(HasUnknownFields(parsed));
  DiscardUnknownFields(&parsed);
  EXPECT_FALSE(HasUnknownFields(parsed));
  EXPECT_EQ(parsed.SerializeAsString(), citizen.SerializeAsString());
}

TEST(UnknownFieldsTest, FoundTwoLevelsDown) {
  // Citizen.father (Relative).name (PersonName) holds the unknown field.
  Citizen citizen;
  citizen.set_citizen_id("001099012345");
  *citizen.mutable_father()->mutable_name() =
      WithUnknown(citizen.father().name());
  citizen.mutable_father()->set_citizen_id("001070012345");
  EXPECT_TRUE(HasUnknownFields(citizen));
  DiscardUnknownFields(&citizen);
  EXPECT_FALSE(HasUnknownFields(citizen));
  EXPECT_EQ(citizen.father().citizen_id(), "001070012345");
}

TEST(UnknownFieldsTest, FoundInARepeatedMessage) {
  google::protobuf::ListValue list;
  list.add_values()->set_string_value("first");
  list.add_values()->set_number_value(2);
  EXPECT_FALSE(HasUnknownFields(list));
  *list.mutable_values(1) = WithUnknown(list.values(1));
  EXPECT_TRUE(HasUnknownFields(list));
  DiscardUnknownFields(&list);
  EXPECT_FALSE(HasUnknownFields(list));
  EXPECT_EQ(list.values(1).number_value(), 2);
}

TEST(UnknownFieldsTest, FoundInTheRequestsOfficerAndMask) {
  LookupCitizenRequest request;
  request.set_citizen_id("001099012345");
  request.mutable_fields()->add_paths("name");
  *request.mutable_officer() = WithUnknown(request.officer());
  EXPECT_TRUE(HasUnknownFields(request));
  DiscardUnknownFields(&request);
  EXPECT_FALSE(HasUnknownFields(request));
  EXPECT_EQ(request.fields().paths(0), "name");

  LookupCitizenRequest masked;
  *masked.mutable_fields() = WithUnknown(masked.fields());
  EXPECT_TRUE(HasUnknownFields(masked));
}

}  // namespace
}  // namespace lienthong::proto_util
