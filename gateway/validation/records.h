// Validation of record lookups (lienthong.v1.RecordService): the record
// types adapters declare (RecordSchema, compiled once when the runtime is
// built) and the requests made for them.
//
// Messages reach the caller: they name the parameter or field, never echo a
// parameter's value (it may be personal data). Thread-safe.
#ifndef LIENTHONG_GATEWAY_VALIDATION_RECORDS_H_
#define LIENTHONG_GATEWAY_VALIDATION_RECORDS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "google/protobuf/map.h"
#include "lienthong/v1/records.pb.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace lienthong::validation {

// Longest parameter value accepted, in bytes.
inline constexpr size_t kMaxRecordParameterBytes = 256;

// Returns OK when `name` can name a record type, parameter or field: 1 to
// 64 lower-case ASCII letters, digits and '_'. Otherwise INVALID_ARGUMENT
// "<field> must be 1 to 64 of a-z, 0-9 and _" (the name is not echoed).
absl::Status ValidateRecordName(absl::string_view name,
                                absl::string_view field);

// A record type as an adapter declares it, with its parameters' patterns
// compiled. Immutable once made.
class RecordSchema {
 public:
  // Checks the declaration and compiles its patterns (RE2 syntax, matched
  // against the whole value). Fails with INVALID_ARGUMENT naming the record
  // type and what is wrong: a malformed or repeated name, no parameter or
  // no field, a pattern that does not compile.
  static absl::StatusOr<std::unique_ptr<const RecordSchema>> Create(
      adapters::RecordType type);
  ~RecordSchema();

  const adapters::RecordType& type() const { return type_; }
  // Whether the record type declares field `name`.
  bool HasField(absl::string_view name) const;

  // Checks a request's parameters: each name one the type declares, each
  // required one present, each value non-empty, well-formed UTF-8 of at
  // most kMaxRecordParameterBytes without control characters (text.h), and
  // matching its pattern. Returns OK or INVALID_ARGUMENT naming the parameter
  // ("parameters.tax_code does not have the form the record type
  // 'enterprise' requires"); malformed names are not echoed.
  absl::Status CheckParameters(
      const google::protobuf::Map<std::string, std::string>& parameters) const;

 private:
  explicit RecordSchema(adapters::RecordType type);

  adapters::RecordType type_;
  // Parallel to type_.parameters; null where no pattern is declared.
  std::vector<std::unique_ptr<re2::RE2>> patterns_;
};

// Checks a GetRecord request against `schema` (its record type):
// the parameters (RecordSchema::CheckParameters), the purpose, dossier and
// officer exactly as a population lookup's (codes.h, officer.h), and
// `fields`: each a field of the type, none repeated. Returns OK or
// INVALID_ARGUMENT naming the field of the request that is wrong.
absl::Status ValidateGetRecord(const lienthong::v1::GetRecordRequest& request,
                               const RecordSchema& schema, absl::Time now);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_RECORDS_H_
