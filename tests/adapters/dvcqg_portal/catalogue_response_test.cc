// The national procedure database's answers, as tables.
#include "adapters/dvcqg_portal/catalogue_response.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::NationalProcedure;
using ::testing::ElementsAre;

google::protobuf::Struct Json(const std::string& text) {
  google::protobuf::Struct json;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &json).ok())
      << text;
  return json;
}

TEST(ParseCatalogueListTest, Table) {
  auto list = ParseCatalogueList(Json(
      R"({"error_code":0,"result":[)"
      R"({"MATTHC":"1.001193","TENTTHC":"Đăng ký khai sinh"},)"
      R"({"MATTHC":2000884,"TENTTHC":"Số"},)"
      R"({"TENTTHC":"no code"},"junk",)"
      R"({"MATTHC":"1.0011930000000000000000000000000000000000"},)"
      R"({"MATTHC":"3.000001"}]})"));
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].code(), "1.001193");
  EXPECT_EQ((*list)[0].name(), "Đăng ký khai sinh");
  EXPECT_FALSE((*list)[0].detailed());
  EXPECT_EQ((*list)[1].code(), "2000884");  // a number kept as text
  EXPECT_EQ((*list)[2].name(), "");
  for (const char* bad : {R"({"error_code":0})", R"({"result":"x"})",
                          R"({"result":{"MATTHC":"1"}})"}) {
    EXPECT_THAT(ParseCatalogueList(Json(bad)),
                StatusIs(absl::StatusCode::kUnavailable, ::testing::_))
        << bad;
  }
  auto empty = ParseCatalogueList(Json(R"({"result":[]})"));
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseProcedureDetailTest, Table) {
  auto procedure = ParseProcedureDetail(Json(
      R"({"error_code":"00","result":[{"MATTHC":"1.001193",)"
      R"("TENTTHC":"Đăng ký khai sinh",)"
      R"("LINHVUCTHUCHIEN":[{"MALINHVUC":"G09-TP05","TENLINHVUC":"Hộ tịch"}],)"
      R"("CACHTHUCTHUCHIEN":[{"KENH":1},{"KENH":"2"},{"KENH":3},{"KENH":9}],)"
      R"("COQUANTHUCHIEN":[{"MADONVI":"X","TENDONVI":"UBND cấp xã"},{}],)"
      R"("TRANGTHAI":1}]})"));
  ASSERT_THAT(procedure, IsOk());
  EXPECT_EQ(procedure->code(), "1.001193");
  ASSERT_EQ(procedure->fields_size(), 1);
  EXPECT_EQ(procedure->fields(0).code(), "G09-TP05");
  EXPECT_EQ(procedure->fields(0).name(), "Hộ tịch");
  EXPECT_THAT(procedure->channels(),
              ElementsAre(NationalProcedure::IN_PERSON, NationalProcedure::ONLINE,
                          NationalProcedure::BY_POST));
  EXPECT_THAT(procedure->agencies(), ElementsAre("UBND cấp xã"));
  EXPECT_TRUE(procedure->in_force());
  EXPECT_TRUE(procedure->detailed());

  struct Case {
    const char* json;
    absl::StatusCode code;
  };
  const Case kCases[] = {
      {R"({"result":[]})", absl::StatusCode::kNotFound},
      {R"({"error_code":0})", absl::StatusCode::kUnavailable},
      {R"({"result":["x"]})", absl::StatusCode::kUnavailable},
      {R"({"result":[{"TENTTHC":"no code"}]})", absl::StatusCode::kUnavailable},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(ParseProcedureDetail(Json(c.json)).status().code(), c.code)
        << c.json;
  }
  auto withdrawn = ParseProcedureDetail(
      Json(R"({"result":[{"MATTHC":"1.000001","TRANGTHAI":"0"}]})"));
  ASSERT_THAT(withdrawn, IsOk());
  EXPECT_FALSE(withdrawn->in_force());
  EXPECT_EQ(withdrawn->fields_size(), 0);
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
