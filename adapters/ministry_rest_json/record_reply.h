// Reading a ministry system's reply into a record, by the record type's
// config: "not found" by HTTP status or by a value in the reply, failure
// by a result code in a 2xx reply, each field by its JSON pointer. Replies
// are hostile input: bounded in size, and anything but a JSON object with
// scalars where the fields are is refused with UNAVAILABLE saying what
// (never quoting the reply).
#ifndef LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_RECORD_REPLY_H_
#define LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_RECORD_REPLY_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"
#include "adapters/ministry_rest_json/json_pointer.h"

namespace lienthong::adapters::ministry_rest_json {

// How one record type's replies are read.
struct ReplyRules {
  std::string record_type;
  // HTTP statuses meaning "no such record".
  std::vector<int> not_found_statuses = {404};
  // A 2xx reply whose value here is `not_found_equals` (or, with that
  // empty, absent or null) means "no such record".
  std::optional<JsonPointer> not_found_pointer;
  std::string not_found_equals;
  // When set, a 2xx reply is a record only when its value here is one of
  // `success_equals` (as text, by ScalarText). Checked after a
  // `not_found_equals` (a code of its own for "no such record" stays
  // NOT_FOUND) but before an absent `not_found_pointer` (a failure's reply
  // has no record either: it stays a failure).
  std::optional<JsonPointer> success_pointer;
  std::vector<std::string> success_equals;
  // Each field's name and where its value is.
  std::vector<std::pair<std::string, JsonPointer>> fields;
  std::optional<JsonPointer> reference;
  size_t max_bytes = 1 << 20;
};

// The payload of a status ReadRecordReply fails with for a field it cannot
// read: which field, at which pointer, and how, for the operator's log. The
// message does not say: the field may be one the caller's grant withholds,
// and the caller would learn it is there and its shape.
inline constexpr char kFieldProblemPayload[] =
    "type.lienthong.local/ministry-rest-json.field-problem";

// Returns the record in `body` (an HTTP `status` reply) read by `rules`:
// the fields found, in the rules' order. Fails with NOT_FOUND when the
// rules say there is no such record; UNAVAILABLE marked retriable for HTTP
// 429, 502, 503 and 504 (with `retry_after`); UNAVAILABLE for any other
// status outside 2xx, a body over max_bytes, a body that is not a JSON
// object, a result code at `success_pointer` absent or not one of
// `success_equals` (the not-found rule is applied first), or a field (or
// the reference) that is an object or an array. Messages name the record
// type, the HTTP status or the pointer, never a value, except a failing
// result code that is a short token (see SuccessRule); a field's problem
// is named only in kFieldProblemPayload. Thread-safe.
absl::StatusOr<Reply<RecordReply>> ReadRecordReply(const ReplyRules& rules,
                                                   long status,
                                                   absl::string_view body,
                                                   absl::string_view retry_after);

}  // namespace lienthong::adapters::ministry_rest_json

#endif  // LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_RECORD_REPLY_H_
