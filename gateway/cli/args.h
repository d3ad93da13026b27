// Parsing and checking of command-line values shared by the `lienthong`
// commands: citizen IDs, birth dates (--dob) and field lists (--fields).
// Each check fails with INVALID_ARGUMENT and a message that names the option
// but does not echo the value (personal data), so that a bad command line is
// reported before any connection is made.
#ifndef LIENTHONG_GATEWAY_CLI_ARGS_H_
#define LIENTHONG_GATEWAY_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/type/date.pb.h"

namespace lienthong::cli {

// Returns the date in `text`: "yyyy-MM-dd", "dd/MM/yyyy" (as Vietnamese
// documents write it) or a bare year "yyyy" (month = day = 0, as the API
// allows for year-only birth dates). The calendar is checked (no 1985-02-29).
// Fails with INVALID_ARGUMENT naming `option` otherwise. Thread-safe.
absl::StatusOr<google::type::Date> ParseDate(absl::string_view text,
                                             absl::string_view option);

// Checks that `id` is a 12-digit personal identification number or a 9-digit
// old ID card number. Fails with INVALID_ARGUMENT naming `option`.
// Thread-safe.
absl::Status CheckCitizenId(absl::string_view id, absl::string_view option);

// Returns the comma-separated entries of `list`, each trimmed of ASCII
// whitespace, with empty entries and repeats dropped, in first-seen order.
// "name, birth_date,,name " -> {"name", "birth_date"}. Thread-safe.
std::vector<std::string> SplitFieldList(absl::string_view list);

// Returns a FieldMask of the entries of `list` (see SplitFieldList), each
// checked to be a field path of `message` ("name", "name.full"). An empty
// list yields an empty mask. Fails with INVALID_ARGUMENT naming `option`, the
// bad path and the valid top-level names. Thread-safe.
absl::StatusOr<google::protobuf::FieldMask> ParseFieldMask(
    absl::string_view list, const google::protobuf::Descriptor& message,
    absl::string_view option);

// Protobuf's reason for refusing a JSON file, without the file's text: it
// repeats a wrongly typed value, quoted or not ("invalid value 912345678 for
// type TYPE_STRING"), and lines of the file around a syntax error, where
// phone numbers and citizens' IDs stand. Keeps the first line with quoted
// text, the value after "invalid value " and any run of 6 or more digits
// replaced by "...". With the file's text `json`, a syntax error is placed
// ("line 4, column 15: Expected : between key:value pair."), from the
// context protobuf appends, when that context occurs once in the file.
// Thread-safe.
std::string JsonParseReason(absl::string_view protobuf_message,
                            absl::string_view json = {});

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_ARGS_H_
