// Output formatting shared by the `lienthong` commands: an aligned
// "key: value" listing (KeyValueList), readable dates, names and addresses of
// the public API's common types, one-object JSON of any response, and tables
// (FormatTable, OneLine).
#ifndef LIENTHONG_GATEWAY_CLI_OUTPUT_H_
#define LIENTHONG_GATEWAY_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/type/date.pb.h"
#include "lienthong/v1/common.pb.h"

namespace lienthong::cli {

// Lines of "key: value" whose values start in one column (keys counted in
// characters). Keys and values, which may come from a national system, go
// through OneLine: one line each, nothing a terminal would act on.
class KeyValueList {
 public:
  // Adds a line; does nothing when `value` is empty, so that callers can
  // add every field and only the present ones are printed.
  void Add(absl::string_view key, absl::string_view value);

  bool empty() const { return lines_.empty(); }

  // Returns the lines, each ending in '\n'.
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

// Returns `date` as dd/MM/yyyy, MM/yyyy when the day is 0, yyyy when month
// and day are 0, dd/MM when the year is 0; "" for the all-zero date.
std::string FormatDate(const google::type::Date& date);

// Returns the name in display order: `full` when set, else family, middle
// and given joined by spaces. "" when nothing is set.
std::string FormatPersonName(const lienthong::v1::PersonName& name);

// Returns the address on one line, present parts only:
// "detail, commune 12103, legacy district 015, province 33" (the country is
// added when it is not "VN"). "" when nothing is set.
std::string FormatAddress(const lienthong::v1::Address& address);

// Returns "1 change" or "3 changes": `n` and `one` or `many`. Thread-safe.
std::string Plural(int64_t n, absl::string_view one, absl::string_view many);

// Returns `text` (from the server) on one line: line breaks and tabs become
// spaces, so that a table or a message keeps its shape, and what a terminal
// would act on (other C0 controls such as ESC, DEL, C1 controls, the
// bidirectional overrides and isolates) becomes U+FFFD. Thread-safe.
std::string OneLine(absl::string_view text);

// Returns `rows` as a table, each cell through OneLine: cells padded to
// their column's widest (in characters, for Vietnamese text), two spaces
// apart, the last column not padded, one line per row without trailing
// spaces, each ending in '\n'. Thread-safe.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

// Returns `message` as one JSON object on one line (protobuf's canonical
// mapping, but with the proto field names, as --fields takes them).
// Fails with INTERNAL when protobuf cannot print it. Thread-safe.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_OUTPUT_H_
