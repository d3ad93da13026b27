#include "adapters/c06_population/soap_request.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gateway/validation/citizen_id.h"

namespace lienthong::adapters::c06 {
namespace {

void AppendEscaped(absl::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&apos;");
        break;
      case '\t':
      case '\n':
      case '\r':
        out->push_back(c);
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out->push_back(c);
        break;
    }
  }
}

// Appends `      <dan:name>value</dan:name>\n`.
void AppendElement(absl::string_view name, absl::string_view value,
                   std::string* out) {
  absl::StrAppend(out, "      <dan:", name, ">");
  AppendEscaped(value, out);
  absl::StrAppend(out, "</dan:", name, ">\n");
}

// The envelope around `operation`'s elements.
std::string Envelope(absl::string_view operation, absl::string_view elements) {
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<soapenv:Envelope "
      "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"\n"
      "                  xmlns:dan=\"http://dancuquocgia.bca\">\n"
      "  <soapenv:Header/>\n"
      "  <soapenv:Body>\n"
      "    <dan:",
      operation, ">\n", elements, "    </dan:", operation,
      ">\n"
      "  </soapenv:Body>\n"
      "</soapenv:Envelope>\n");
}

absl::string_view IdElement(absl::string_view citizen_id) {
  return validation::IsOldIdCard(citizen_id) ? "SoCMND" : "SoDinhDanh";
}

}  // namespace

std::string BuildLookupEnvelope(const LookupEnvelopeInput& input) {
  std::string elements;
  AppendElement("MaYeuCau", input.request_id, &elements);
  AppendElement("MaDVC", input.procedure_code, &elements);
  AppendElement("MaTichHop", input.integration_code, &elements);
  AppendElement("MaCanBo", input.officer_id, &elements);
  AppendElement("MaDonVi", input.officer_unit, &elements);
  AppendElement("TaiKhoan", input.officer_account, &elements);
  AppendElement(IdElement(input.citizen_id), input.citizen_id, &elements);
  return Envelope("TraCuuThongTinCongDan", elements);
}

std::string BuildVerifyEnvelope(const VerifyEnvelopeInput& input) {
  std::string elements;
  AppendElement("MaYeuCau", input.request_id, &elements);
  AppendElement("MaDichVu", input.service_code, &elements);
  AppendElement("MaCanBo", input.officer_id, &elements);
  AppendElement(IdElement(input.citizen_id), input.citizen_id, &elements);
  AppendElement("HoVaTen", input.folded_name, &elements);
  return Envelope("XacThucThongTinCongDanRequest", elements);
}

}  // namespace lienthong::adapters::c06
