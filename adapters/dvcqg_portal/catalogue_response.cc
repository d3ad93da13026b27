#include "adapters/dvcqg_portal/catalogue_response.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/status/bounded_text.h"

namespace lienthong::adapters::dvcqg {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using lienthong::v1::NationalProcedure;

// A string field, or a whole number written as text; "" otherwise.
std::string Text(const Struct& o, const std::string& key) {
  auto it = o.fields().find(key);
  if (it == o.fields().end()) return "";
  const Value& v = it->second;
  if (v.kind_case() == Value::kStringValue) return v.string_value();
  if (v.kind_case() == Value::kNumberValue && std::isfinite(v.number_value()) &&
      v.number_value() == std::floor(v.number_value()) &&
      std::fabs(v.number_value()) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v.number_value()));
  }
  return "";
}

// `text` cut to `limit` bytes without splitting a UTF-8 sequence.
std::string Cut(std::string text, size_t limit) {
  return std::string(TruncateUtf8(text, limit));
}

// The objects of an array field; none when absent or not an array.
std::vector<const Struct*> Objects(const Struct& o, const std::string& key) {
  std::vector<const Struct*> out;
  auto it = o.fields().find(key);
  if (it == o.fields().end() || it->second.kind_case() != Value::kListValue) {
    return out;
  }
  for (const Value& v : it->second.list_value().values()) {
    if (v.kind_case() == Value::kStructValue) out.push_back(&v.struct_value());
  }
  return out;
}

absl::StatusOr<const google::protobuf::ListValue*> Result(const Struct& json) {
  auto it = json.fields().find("result");
  if (it == json.fields().end() ||
      it->second.kind_case() != Value::kListValue) {
    return absl::UnavailableError(
        "the portal's catalogue answer has no result list");
  }
  return &it->second.list_value();
}

// Code and name of a catalogue entry; false when it has no usable code.
bool ReadHead(const Struct& entry, NationalProcedure& procedure) {
  std::string code = Text(entry, "MATTHC");
  if (code.empty() || code.size() > kMaxCatalogueCodeBytes) return false;
  procedure.set_code(std::move(code));
  procedure.set_name(Cut(Text(entry, "TENTTHC"), kMaxCatalogueTextBytes));
  return true;
}

}  // namespace

absl::StatusOr<std::vector<NationalProcedure>> ParseCatalogueList(
    const Struct& json) {
  absl::StatusOr<const google::protobuf::ListValue*> result = Result(json);
  if (!result.ok()) return result.status();
  std::vector<NationalProcedure> procedures;
  procedures.reserve((*result)->values_size());
  for (const Value& v : (*result)->values()) {
    if (v.kind_case() != Value::kStructValue) continue;
    NationalProcedure procedure;
    if (ReadHead(v.struct_value(), procedure)) {
      procedures.push_back(std::move(procedure));
    }
  }
  return procedures;
}

absl::StatusOr<NationalProcedure> ParseProcedureDetail(const Struct& json) {
  absl::StatusOr<const google::protobuf::ListValue*> result = Result(json);
  if (!result.ok()) return result.status();
  if ((*result)->values_size() == 0) {
    return absl::NotFoundError("the portal has no procedure by that code");
  }
  const Value& first = (*result)->values(0);
  NationalProcedure procedure;
  if (first.kind_case() != Value::kStructValue ||
      !ReadHead(first.struct_value(), procedure)) {
    return absl::UnavailableError(
        "the portal's procedure answer has no usable MATTHC");
  }
  const Struct& entry = first.struct_value();
  for (const Struct* field : Objects(entry, "LINHVUCTHUCHIEN")) {
    NationalProcedure::Field* f = procedure.add_fields();
    f->set_code(Cut(Text(*field, "MALINHVUC"), kMaxCatalogueCodeBytes));
    f->set_name(Cut(Text(*field, "TENLINHVUC"), kMaxCatalogueTextBytes));
  }
  for (const Struct* way : Objects(entry, "CACHTHUCTHUCHIEN")) {
    const std::string channel = Text(*way, "KENH");
    if (channel == "1") procedure.add_channels(NationalProcedure::IN_PERSON);
    if (channel == "2") procedure.add_channels(NationalProcedure::ONLINE);
    if (channel == "3") procedure.add_channels(NationalProcedure::BY_POST);
  }
  for (const Struct* agency : Objects(entry, "COQUANTHUCHIEN")) {
    std::string name = Cut(Text(*agency, "TENDONVI"), kMaxCatalogueTextBytes);
    if (!name.empty()) procedure.add_agencies(std::move(name));
  }
  // The source treats a missing TRANGTHAI as in force.
  const std::string state = Text(entry, "TRANGTHAI");
  procedure.set_in_force(state.empty() || state == "1");
  procedure.set_detailed(true);
  return procedure;
}

}  // namespace lienthong::adapters::dvcqg
