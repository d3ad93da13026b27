// Small JSON helpers for the simulator: reading request bodies leniently
// through google.protobuf.Struct, and quoting strings for hand-built answers.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_SIM_JSON_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_SIM_JSON_H_

#include <google/protobuf/struct.pb.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::sim {

using JsonObject = google::protobuf::Struct;

// `s` as a JSON string literal, quotes included; UTF-8 passes through.
std::string JsonQuote(absl::string_view s);

// Parses a JSON object of any shape. Fails with INVALID_ARGUMENT on bad JSON
// or a top level that is not an object.
absl::StatusOr<JsonObject> ParseJsonObject(absl::string_view json);

// The field as text: a string as it is, a number in shortest form ("4"), a
// boolean "true"/"false"; empty when absent, null or structured.
std::string JsonText(const JsonObject& o, const std::string& key);
// A number, or a string holding one; nullopt otherwise.
std::optional<double> JsonNumber(const JsonObject& o, const std::string& key);
std::optional<bool> JsonBool(const JsonObject& o, const std::string& key);
// The text of each element of an array field (a lone scalar is a one-element
// list); empty when absent.
std::vector<std::string> JsonTexts(const JsonObject& o, const std::string& key);
bool JsonHas(const JsonObject& o, const std::string& key);
// The objects in an array field, in order; nullopt when the field is absent
// or not an array, or an element is not an object.
std::optional<std::vector<JsonObject>> JsonObjects(const JsonObject& o,
                                                   const std::string& key);
// `o` as compact JSON.
std::string ToJson(const JsonObject& o);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SIM_JSON_H_
