#include "adapters/c06_population/soap_request.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// Appends `  <dc:name>value</dc:name>\n` at the operation's indentation.
void AppendElement(absl::string_view name, absl::string_view value,
                   absl::string_view indent, std::string* out) {
  absl::StrAppend(out, indent, "<dc:", name, ">");
  AppendEscaped(value, out);
  absl::StrAppend(out, "</dc:", name, ">\n");
}

}  // namespace

std::string BuildLookupEnvelope(const LookupEnvelopeInput& input) {
  constexpr absl::string_view kIndent = "      ";
  std::string out =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<soap:Envelope "
      "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"\n"
      "               xmlns:dc=\"http://dancuquocgia.bca\">\n"
      "  <soap:Body>\n"
      "    <dc:TraCuuThongTinCongDan>\n";
  AppendElement("MaYeuCau", input.request_id, kIndent, &out);
  AppendElement("MaDVC", input.unit_code, kIndent, &out);
  AppendElement("MaCanBo", input.officer_code, kIndent, &out);
  AppendElement(
      validation::IsOldIdCard(input.citizen_id) ? "SoCMND" : "SoDinhDanh",
      input.citizen_id, kIndent, &out);
  if (!input.folded_name.empty()) {
    AppendElement("HoVaTen", input.folded_name, kIndent, &out);
  }
  const google::type::Date* date = input.birth_date;
  if (date != nullptr && date->year() != 0) {
    absl::StrAppend(&out, kIndent, "<dc:NgayThangNamSinh>\n");
    if (date->month() == 0 && date->day() == 0) {
      AppendElement("Nam", absl::StrFormat("%04d", date->year()), "        ",
                    &out);
    } else {
      AppendElement("NgayThangNam",
                    absl::StrFormat("%04d%02d%02d", date->year(), date->month(),
                                    date->day()),
                    "        ", &out);
    }
    absl::StrAppend(&out, kIndent, "</dc:NgayThangNamSinh>\n");
  }
  out.append(
      "    </dc:TraCuuThongTinCongDan>\n"
      "  </soap:Body>\n"
      "</soap:Envelope>\n");
  return out;
}

}  // namespace lienthong::adapters::c06
