// Rules for free text and contact data that callers send and the gateway
// passes on (e.g. to the national portal): well-formed UTF-8 without
// control characters within a size, a person's name, an e-mail address, a
// phone number.
//
// Messages say what is wrong and never repeat the text: it may be personal
// data. All functions are thread-safe and keep no state.
#ifndef LIENTHONG_GATEWAY_VALIDATION_TEXT_H_
#define LIENTHONG_GATEWAY_VALIDATION_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::validation {

// Returns the offset of the first byte of the first ill-formed UTF-8
// sequence in `text` (overlong forms, surrogates and code points above
// U+10FFFF are ill-formed), or text.size() when there is none.
size_t FindInvalidUtf8(absl::string_view text);

// Returns the number of code points in `text`, counting each byte of an
// ill-formed sequence that is not a continuation byte as one: the length a
// reader sees, for limits and table columns.
size_t CountCodePoints(absl::string_view text);

// True for the characters no text the gateway takes or shows may hold: C0
// controls U+0000..U+001F, DEL U+007F, C1 controls U+0080..U+009F (ESC and
// CSI start terminal escape sequences), and the bidirectional embeddings,
// overrides and isolates U+202A..U+202E and U+2066..U+2069, which make text
// read other than it is stored. The one home of this rule.
bool IsControlCharacter(uint32_t c);

// The first control character (IsControlCharacter) in `utf8`, other than
// the ASCII ones in `allowed` (e.g. "\t\n"): its code point and its place
// in code points, from 1. Ill-formed sequences are skipped over (check
// them with FindInvalidUtf8).
struct ControlCharacter {
  uint32_t code_point;
  int position;
};
std::optional<ControlCharacter> FindControlCharacter(
    absl::string_view utf8, absl::string_view allowed = "");

// The digit at `text[i]` as free text may write it: ASCII, or full-width
// (U+FF10..U+FF19, bytes EF BC 90..99). Sets `*digit` ('0'..'9') and
// returns its length in bytes; 0 when there is none (also past the end).
// The one home of this rule: masking IDs in free text and masking digits
// for logs both use it.
size_t DigitAt(absl::string_view text, size_t i, char* digit);

// True when every byte of `text` is visible ASCII (0x21 to 0x7E): no
// spaces, no control characters (which could end a header line), no text
// of other scripts. For tokens, keys and codes a national system is sent in
// a header or a URL. True for "": callers that need text say so. The one
// home of this rule, as IsPrintableAscii is of the next.
bool IsVisibleAscii(absl::string_view text);

// As IsVisibleAscii, with spaces allowed (0x20 to 0x7E).
bool IsPrintableAscii(absl::string_view text);

// Returns OK when `text` is well-formed UTF-8, at most `max_bytes` long and
// free of control characters (IsControlCharacter; with `multiline`, tab,
// line feed and carriage return are allowed). INVALID_ARGUMENT otherwise:
// "longer than N bytes", "not valid UTF-8", "contains control characters".
absl::Status ValidateText(absl::string_view text, size_t max_bytes,
                          bool multiline = false);

// Longest person name ValidatePersonName accepts, in characters: a letter
// with its diacritics is one, and a run of whitespace between words is one
// space.
inline constexpr size_t kMaxPersonNameCharacters = 100;

// Checks a person's full name (the citizen's, in an identity check) before
// any upstream call, as the population database takes names (FoldName in
// adapters/common/text.h accepts the same ones): well-formed
// UTF-8, NFC or NFD, of letters of any script with their diacritics
// ("Nguyễn Thị Ánh"), ' - . ("Đặng Văn O'Neil-Trần") and whitespace (any
// Unicode white space, tab and line feed included: it folds to single
// spaces); at least one letter, at most kMaxPersonNameCharacters
// characters. Returns OK, or INVALID_ARGUMENT naming `field`: "<field> is
// required" (empty or blank), "<field> is not valid UTF-8", "<field> may
// contain only letters, spaces and ' - .", "<field> must contain a letter",
// "<field> is longer than 100 characters"; INTERNAL when ICU's normalizer
// fails.
absl::Status ValidatePersonName(absl::string_view name,
                                absl::string_view field);

// True for 127.0.0.0/8, ::1 (bracketed or not) and "localhost": the hosts
// only this machine reaches.
bool IsLoopbackHost(absl::string_view host);

// Returns OK for an e-mail address: ASCII, at most 254 characters, one
// "@"; a local part of 1 to 64 characters from letters, digits and
// !#$%&'*+-/=?^_`{|}~ in dot-separated groups; a domain of dot-separated
// labels (letters, digits, inner hyphens; 1 to 63 characters) with at least
// two labels. INVALID_ARGUMENT "not an e-mail address" otherwise.
absl::Status ValidateEmail(absl::string_view email);

// Returns OK for a phone number: an optional leading "+", then 8 to 15
// digits, optionally grouped by single spaces, dots or hyphens between
// digits (Vietnamese numbers: 0912345678, 024 3825 1234, +84 912 345 678).
// INVALID_ARGUMENT "not a phone number" otherwise.
absl::Status ValidatePhoneNumber(absl::string_view phone);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_TEXT_H_
