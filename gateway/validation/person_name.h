// The decomposed form of a person's name, for code that goes on to use the
// name's letters (adapters/common/text.h FoldName): one ICU normalisation
// serves both the check and the use. Kept apart from text.h so that only
// the few files that want ICU's strings include them.
#ifndef LIENTHONG_GATEWAY_VALIDATION_PERSON_NAME_H_
#define LIENTHONG_GATEWAY_VALIDATION_PERSON_NAME_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "unicode/unistr.h"

namespace lienthong::validation {

// Checks `name` as ValidatePersonName (text.h) does, with its errors, and
// returns the name in NFD: every diacritic a combining mark after its
// letter, whatever form the caller sent.
absl::StatusOr<icu::UnicodeString> DecomposePersonName(absl::string_view name,
                                                       absl::string_view field);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_PERSON_NAME_H_
