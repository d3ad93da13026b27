#include "adapters/c06_population/soap_request.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "pugixml.hpp"

namespace lienthong::adapters::c06 {
namespace {

constexpr char kSoapNs[] = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr char kDcNs[] = "http://dancuquocgia.bca";

LookupEnvelopeInput BaseInput() {
  LookupEnvelopeInput input;
  input.request_id = "LT-trace-1";
  input.unit_code = "000.00.00.H31";
  input.officer_code = "CB001";
  input.citizen_id = "033085012345";
  return input;
}

// Parses the envelope and returns the operation element, checking the
// envelope's namespaces on the way.
pugi::xml_node Operation(const std::string& xml, pugi::xml_document* doc) {
  const pugi::xml_parse_result result = doc->load_string(xml.c_str());
  EXPECT_TRUE(result) << result.description() << "\n" << xml;
  pugi::xml_node envelope = doc->child("soap:Envelope");
  EXPECT_STREQ(envelope.attribute("xmlns:soap").value(), kSoapNs);
  EXPECT_STREQ(envelope.attribute("xmlns:dc").value(), kDcNs);
  return envelope.child("soap:Body").child("dc:TraCuuThongTinCongDan");
}

TEST(BuildLookupEnvelopeTest, MinimalRequest) {
  const std::string xml = BuildLookupEnvelope(BaseInput());
  EXPECT_TRUE(absl::StartsWith(
      xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope"));
  pugi::xml_document doc;
  pugi::xml_node op = Operation(xml, &doc);
  ASSERT_TRUE(op);
  EXPECT_STREQ(op.child_value("dc:MaYeuCau"), "LT-trace-1");
  EXPECT_STREQ(op.child_value("dc:MaDVC"), "000.00.00.H31");
  EXPECT_STREQ(op.child_value("dc:MaCanBo"), "CB001");
  EXPECT_STREQ(op.child_value("dc:SoDinhDanh"), "033085012345");
  EXPECT_FALSE(op.child("dc:SoCMND"));
  EXPECT_FALSE(op.child("dc:HoVaTen"));
  EXPECT_FALSE(op.child("dc:NgayThangNamSinh"));
  // The order the contract shows.
  const char* kOrder[] = {"dc:MaYeuCau", "dc:MaDVC", "dc:MaCanBo",
                          "dc:SoDinhDanh"};
  int i = 0;
  for (pugi::xml_node child : op.children()) {
    ASSERT_LT(i, 4);
    EXPECT_STREQ(child.name(), kOrder[i++]);
  }
}

struct IdDateCase {
  const char* citizen_id;
  int year, month, day;  // year 0 and no date alike: omitted
  bool has_date;
  const char* id_element;
  const char* date_element;  // nullptr: no NgayThangNamSinh
  const char* date_value;
};

constexpr IdDateCase kIdDateCases[] = {
    {"033085012345", 1985, 3, 12, true, "dc:SoDinhDanh", "dc:NgayThangNam",
     "19850312"},
    {"145123456", 1985, 3, 12, true, "dc:SoCMND", "dc:NgayThangNam",
     "19850312"},
    {"033085012345", 1985, 0, 0, true, "dc:SoDinhDanh", "dc:Nam", "1985"},
    {"001205012345", 2005, 1, 2, true, "dc:SoDinhDanh", "dc:NgayThangNam",
     "20050102"},
    {"033085012345", 0, 0, 0, true, "dc:SoDinhDanh", nullptr, nullptr},
    {"145123456", 0, 0, 0, false, "dc:SoCMND", nullptr, nullptr},
};

TEST(BuildLookupEnvelopeTest, IdElementAndBirthDate) {
  for (const IdDateCase& c : kIdDateCases) {
    SCOPED_TRACE(c.citizen_id);
    google::type::Date date;
    date.set_year(c.year);
    date.set_month(c.month);
    date.set_day(c.day);
    LookupEnvelopeInput input = BaseInput();
    input.citizen_id = c.citizen_id;
    input.folded_name = "NGUYEN VAN AN";
    input.birth_date = c.has_date ? &date : nullptr;
    pugi::xml_document doc;
    pugi::xml_node op = Operation(BuildLookupEnvelope(input), &doc);
    EXPECT_STREQ(op.child_value(c.id_element), c.citizen_id);
    EXPECT_STREQ(op.child_value("dc:HoVaTen"), "NGUYEN VAN AN");
    pugi::xml_node birth = op.child("dc:NgayThangNamSinh");
    if (c.date_element == nullptr) {
      EXPECT_FALSE(birth);
      continue;
    }
    ASSERT_TRUE(birth);
    EXPECT_EQ(std::distance(birth.children().begin(), birth.children().end()),
              1);
    EXPECT_STREQ(birth.child_value(c.date_element), c.date_value);
  }
}

TEST(BuildLookupEnvelopeTest, EscapesHostileInput) {
  LookupEnvelopeInput input = BaseInput();
  input.request_id = "LT-<&>\"'";
  input.unit_code = "</dc:MaDVC><dc:SoDinhDanh>001099000000</dc:SoDinhDanh>";
  input.officer_code = "]]><!--";
  input.folded_name = "O'NEIL & <SON>\x01\x1f";
  const std::string xml = BuildLookupEnvelope(input);
  EXPECT_EQ(xml.find("<&>"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  pugi::xml_document doc;
  pugi::xml_node op = Operation(xml, &doc);
  EXPECT_STREQ(op.child_value("dc:MaYeuCau"), "LT-<&>\"'");
  EXPECT_STREQ(op.child_value("dc:MaDVC"),
               "</dc:MaDVC><dc:SoDinhDanh>001099000000</dc:SoDinhDanh>");
  EXPECT_STREQ(op.child_value("dc:MaCanBo"), "]]><!--");
  // Control characters XML 1.0 cannot carry are dropped.
  EXPECT_STREQ(op.child_value("dc:HoVaTen"), "O'NEIL & <SON>");
  // Only the one real ID element.
  int ids = 0;
  for (pugi::xml_node child : op.children("dc:SoDinhDanh")) {
    EXPECT_STREQ(child.child_value(), "033085012345");
    ++ids;
  }
  EXPECT_EQ(ids, 1);
}

TEST(BuildLookupEnvelopeTest, KeepsUtf8) {
  LookupEnvelopeInput input = BaseInput();
  input.officer_code = "Cán bộ Hưng Yên";
  pugi::xml_document doc;
  EXPECT_STREQ(
      Operation(BuildLookupEnvelope(input), &doc).child_value("dc:MaCanBo"),
      "Cán bộ Hưng Yên");
}

}  // namespace
}  // namespace lienthong::adapters::c06
