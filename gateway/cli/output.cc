#include "gateway/cli/output.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/validation/text.h"
#include "google/protobuf/util/json_util.h"
#include "unicode/utf8.h"

namespace lienthong::cli {

void KeyValueList::Add(absl::string_view key, absl::string_view value) {
  if (value.empty()) return;
  lines_.emplace_back(OneLine(key), OneLine(value));
}

std::string KeyValueList::ToString() const {
  size_t width = 0;
  for (const auto& [key, value] : lines_) {
    width = std::max(width, validation::CountCodePoints(key));
  }
  std::string out;
  for (const auto& [key, value] : lines_) {
    absl::StrAppend(
        &out, key, ":",
        std::string(width - validation::CountCodePoints(key) + 2, ' '), value,
        "\n");
  }
  return out;
}

std::string FormatDate(const google::type::Date& date) {
  const int y = date.year();
  const int m = date.month();
  const int d = date.day();
  if (y == 0) {
    if (m == 0) return "";
    return d == 0 ? absl::StrFormat("%02d", m)
                  : absl::StrFormat("%02d/%02d", d, m);
  }
  if (m == 0) return absl::StrFormat("%04d", y);
  if (d == 0) return absl::StrFormat("%02d/%04d", m, y);
  return absl::StrFormat("%02d/%02d/%04d", d, m, y);
}

std::string FormatPersonName(const lienthong::v1::PersonName& name) {
  if (!name.full().empty()) return name.full();
  std::vector<absl::string_view> parts;
  for (const std::string* part :
       {&name.family(), &name.middle(), &name.given()}) {
    if (!part->empty()) parts.push_back(*part);
  }
  return absl::StrJoin(parts, " ");
}

std::string FormatAddress(const lienthong::v1::Address& address) {
  std::vector<std::string> parts;
  if (!address.detail().empty()) parts.push_back(address.detail());
  if (!address.commune_code().empty()) {
    parts.push_back(absl::StrCat("commune ", address.commune_code()));
  }
  if (!address.legacy_district_code().empty()) {
    parts.push_back(
        absl::StrCat("legacy district ", address.legacy_district_code()));
  }
  if (!address.province_code().empty()) {
    parts.push_back(absl::StrCat("province ", address.province_code()));
  }
  if (!address.country().empty() && address.country() != "VN") {
    parts.push_back(address.country());
  }
  return absl::StrJoin(parts, ", ");
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the response as JSON: ", status.ToString()));
  }
  return json;
}

std::string Plural(int64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string OneLine(absl::string_view text) {
  constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  std::string line;
  line.reserve(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c == '\n' || c == '\r' || c == '\t') {
      line += ' ';
    } else if (c >= 0 &&
               validation::IsControlCharacter(static_cast<uint32_t>(c))) {
      // ESC, C1's CSI and OSC, bidirectional overrides and isolates: what a
      // terminal would act on, or what reorders what the operator reads.
      line.append(kReplacement.data(), kReplacement.size());
    } else {
      // Ill-formed bytes pass as they are.
      line.append(text.data() + start, static_cast<size_t>(i - start));
    }
  }
  return line;
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  auto characters = [](absl::string_view utf8) {
    return static_cast<int>(validation::CountCodePoints(utf8));
  };
  // Every cell on one line and free of what a terminal would act on.
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  for (const auto& row : rows) {
    std::vector<std::string>& out_row = cells.emplace_back();
    out_row.reserve(row.size());
    for (const std::string& cell : row) out_row.push_back(OneLine(cell));
  }
  std::vector<int> widths;
  for (const auto& row : cells) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], characters(row[i]));
    }
  }
  std::string out;
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) {
        out.append(static_cast<size_t>(widths[i] - characters(row[i]) + 2), ' ');
      }
    }
    // An empty last cell leaves no padding behind.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

}  // namespace lienthong::cli
