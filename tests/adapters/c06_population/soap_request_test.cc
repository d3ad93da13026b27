#include "adapters/c06_population/soap_request.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pugixml.hpp"

namespace lienthong::adapters::c06 {
namespace {

using ::testing::ElementsAreArray;

constexpr char kSoapNs[] = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr char kDanNs[] = "http://dancuquocgia.bca";

LookupEnvelopeInput LookupInput() {
  LookupEnvelopeInput input;
  input.request_id = "LT-trace-1";
  input.procedure_code = "1.001193";
  input.integration_code = "037";
  input.officer_id = "001085004321";
  input.officer_unit = "000.00.31.H31";
  input.officer_account = "nguyenvana";
  input.citizen_id = "033085012345";
  return input;
}

VerifyEnvelopeInput VerifyInput() {
  VerifyEnvelopeInput input;
  input.request_id = "LT-trace-2";
  input.service_code = "033";
  input.officer_id = "001085004321";
  input.citizen_id = "033085012345";
  input.folded_name = "NGUYEN VAN AN";
  return input;
}

// Parses the envelope and returns `operation`, checking the envelope's
// namespaces and empty Header on the way.
pugi::xml_node Operation(const std::string& xml, const char* operation,
                         pugi::xml_document* doc) {
  const pugi::xml_parse_result result = doc->load_string(xml.c_str());
  EXPECT_TRUE(result) << result.description() << "\n" << xml;
  EXPECT_TRUE(absl::StartsWith(
      xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soapenv:Envelope"));
  pugi::xml_node envelope = doc->child("soapenv:Envelope");
  EXPECT_STREQ(envelope.attribute("xmlns:soapenv").value(), kSoapNs);
  EXPECT_STREQ(envelope.attribute("xmlns:dan").value(), kDanNs);
  EXPECT_TRUE(envelope.child("soapenv:Header"));
  EXPECT_FALSE(envelope.child("soapenv:Header").first_child());
  return envelope.child("soapenv:Body").child(operation);
}

std::vector<std::string> ChildNames(pugi::xml_node node) {
  std::vector<std::string> names;
  for (pugi::xml_node child : node.children()) names.push_back(child.name());
  return names;
}

TEST(BuildLookupEnvelopeTest, EveryElementInTheContractsOrder) {
  pugi::xml_document doc;
  pugi::xml_node op = Operation(BuildLookupEnvelope(LookupInput()),
                                "dan:TraCuuThongTinCongDan", &doc);
  ASSERT_TRUE(op);
  EXPECT_THAT(ChildNames(op),
              ElementsAreArray({"dan:MaYeuCau", "dan:MaDVC", "dan:MaTichHop",
                                "dan:MaCanBo", "dan:MaDonVi", "dan:TaiKhoan",
                                "dan:SoDinhDanh"}));
  EXPECT_STREQ(op.child_value("dan:MaYeuCau"), "LT-trace-1");
  EXPECT_STREQ(op.child_value("dan:MaDVC"), "1.001193");
  EXPECT_STREQ(op.child_value("dan:MaTichHop"), "037");
  EXPECT_STREQ(op.child_value("dan:MaCanBo"), "001085004321");
  EXPECT_STREQ(op.child_value("dan:MaDonVi"), "000.00.31.H31");
  EXPECT_STREQ(op.child_value("dan:TaiKhoan"), "nguyenvana");
  EXPECT_STREQ(op.child_value("dan:SoDinhDanh"), "033085012345");
}

TEST(BuildLookupEnvelopeTest, OldIdCardGoesInSoCmnd) {
  LookupEnvelopeInput input = LookupInput();
  input.citizen_id = "145123456";
  pugi::xml_document doc;
  pugi::xml_node op =
      Operation(BuildLookupEnvelope(input), "dan:TraCuuThongTinCongDan", &doc);
  EXPECT_STREQ(op.child_value("dan:SoCMND"), "145123456");
  EXPECT_FALSE(op.child("dan:SoDinhDanh"));
}

TEST(BuildVerifyEnvelopeTest, EveryElementInTheContractsOrder) {
  pugi::xml_document doc;
  pugi::xml_node op = Operation(BuildVerifyEnvelope(VerifyInput()),
                                "dan:XacThucThongTinCongDanRequest", &doc);
  ASSERT_TRUE(op);
  EXPECT_THAT(ChildNames(op),
              ElementsAreArray({"dan:MaYeuCau", "dan:MaDichVu", "dan:MaCanBo",
                                "dan:SoDinhDanh", "dan:HoVaTen"}));
  EXPECT_STREQ(op.child_value("dan:MaYeuCau"), "LT-trace-2");
  EXPECT_STREQ(op.child_value("dan:MaDichVu"), "033");
  EXPECT_STREQ(op.child_value("dan:MaCanBo"), "001085004321");
  EXPECT_STREQ(op.child_value("dan:HoVaTen"), "NGUYEN VAN AN");
  // No birth date: the check has no date element.
  EXPECT_FALSE(op.child("dan:NgayThangNamSinh"));

  VerifyEnvelopeInput old_card = VerifyInput();
  old_card.citizen_id = "145123456";
  pugi::xml_document doc2;
  pugi::xml_node op2 = Operation(BuildVerifyEnvelope(old_card),
                                 "dan:XacThucThongTinCongDanRequest", &doc2);
  EXPECT_STREQ(op2.child_value("dan:SoCMND"), "145123456");
  EXPECT_FALSE(op2.child("dan:SoDinhDanh"));
}

TEST(BuildEnvelopeTest, EscapesHostileInput) {
  LookupEnvelopeInput input = LookupInput();
  input.request_id = "LT-<&>\"'";
  input.officer_unit =
      "</dan:MaDonVi><dan:SoDinhDanh>001099000000</dan:SoDinhDanh>";
  input.officer_account = "]]><!--\x01\x1f";
  const std::string xml = BuildLookupEnvelope(input);
  EXPECT_EQ(xml.find("<&>"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  pugi::xml_document doc;
  pugi::xml_node op = Operation(xml, "dan:TraCuuThongTinCongDan", &doc);
  EXPECT_STREQ(op.child_value("dan:MaYeuCau"), "LT-<&>\"'");
  EXPECT_STREQ(op.child_value("dan:MaDonVi"),
               "</dan:MaDonVi><dan:SoDinhDanh>001099000000</dan:SoDinhDanh>");
  // Control characters XML 1.0 cannot carry are dropped.
  EXPECT_STREQ(op.child_value("dan:TaiKhoan"), "]]><!--");
  int ids = 0;
  for (pugi::xml_node child : op.children("dan:SoDinhDanh")) {
    EXPECT_STREQ(child.child_value(), "033085012345");
    ++ids;
  }
  EXPECT_EQ(ids, 1);

  VerifyEnvelopeInput verify = VerifyInput();
  verify.folded_name = "O'NEIL & <SON>";
  pugi::xml_document doc2;
  EXPECT_STREQ(Operation(BuildVerifyEnvelope(verify),
                         "dan:XacThucThongTinCongDanRequest", &doc2)
                   .child_value("dan:HoVaTen"),
               "O'NEIL & <SON>");
}

}  // namespace
}  // namespace lienthong::adapters::c06
