// The citizen ID and date validators (gateway/validation): any input is
// answered, a refusal never echoes the ID or five of its digits in a row,
// the mask shows the first three digits of a 12-digit ID and the last two
// of either kind, nothing else, and a text's IDs are masked.
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gateway/validation/citizen_id.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool AllDigits(const std::string& text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Twelve bytes of date and clock, then the ID.
  if (size < 12) return 0;
  int32_t fields[3];
  std::memcpy(fields, data, sizeof(fields));
  google::type::Date date;
  date.set_year(fields[0] % 4000);
  date.set_month(fields[1] % 16);
  date.set_day(fields[2] % 40);
  const absl::Time now = absl::FromUnixSeconds(1752537600);  // a fixed clock
  const std::string id(reinterpret_cast<const char*>(data) + 12, size - 12);

  const absl::Status with_date = lienthong::validation::ValidateCitizenId(id, &date, now);
  const absl::Status without = lienthong::validation::ValidateCitizenId(id, nullptr, now);
  if (with_date.ok()) FUZZ_CHECK(without.ok());
  // An ID is its digits: one with six or more must never come back in a
  // message (shorter inputs, or ones spelling out the message's own words,
  // may match its text by chance).
  size_t digits = 0;
  for (char c : id) digits += absl::ascii_isdigit(c) ? 1 : 0;
  for (const absl::Status& status : {with_date, without}) {
    if (status.ok()) continue;
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    if (digits >= 6) FUZZ_CHECK(!absl::StrContains(status.message(), id));
    // The messages' own numbers ("got N characters", 1900) have at most
    // four digits.
    for (size_t at = 0; at + 5 <= id.size(); ++at) {
      const std::string run = id.substr(at, 5);
      if (AllDigits(run)) FUZZ_CHECK(!absl::StrContains(status.message(), run));
    }
  }
  if (without.ok()) {
    FUZZ_CHECK(id.size() == 12 || id.size() == 9);
    FUZZ_CHECK(lienthong::validation::IsOldIdCard(id) == (id.size() == 9));
  }
  const std::string masked = lienthong::validation::MaskCitizenId(id);
  if (id.size() == 12 && digits == 12) {
    FUZZ_CHECK(masked == id.substr(0, 3) + "*******" + id.substr(10));
  } else if (id.size() == 9 && digits == 9) {
    FUZZ_CHECK(masked == "*******" + id.substr(7));
  } else {
    FUZZ_CHECK(masked == "***");
  }
  // In a text, every run of 9 or 12 digits (ASCII or full-width, U+FF10..
  // U+FF19) is masked: none is left.
  const std::string text = lienthong::validation::MaskCitizenIdsInText(id);
  const auto digit_at = [&text](size_t i) -> size_t {
    if (i < text.size() && absl::ascii_isdigit(text[i])) return 1;
    if (i + 3 <= text.size() && text[i] == '\xEF' && text[i + 1] == '\xBC' &&
        static_cast<unsigned char>(text[i + 2]) >= 0x90 &&
        static_cast<unsigned char>(text[i + 2]) <= 0x99) {
      return 3;
    }
    return 0;
  };
  for (size_t at = 0; at < text.size();) {
    size_t digits_in_run = 0;
    for (size_t n; (n = digit_at(at)) > 0; at += n) ++digits_in_run;
    FUZZ_CHECK(digits_in_run != 9 && digits_in_run != 12);
    if (digits_in_run == 0) ++at;
  }
  const absl::Status date_status = lienthong::validation::ValidateDate(date, now);
  if (!date_status.ok()) {
    FUZZ_CHECK(date_status.code() == absl::StatusCode::kInvalidArgument);
  }
  return 0;
}
