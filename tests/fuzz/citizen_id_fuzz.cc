// The citizen ID and date validators (gateway/validation): any input is
// answered, a refusal never echoes the ID, and the mask never shows more
// than the first and last three digits.
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gateway/validation/citizen_id.h"
#include "tests/fuzz/fuzz_check.h"

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
  }
  if (without.ok()) {
    FUZZ_CHECK(id.size() == 12 || id.size() == 9);
    FUZZ_CHECK(lienthong::validation::IsOldIdCard(id) == (id.size() == 9));
  }
  const std::string masked = lienthong::validation::MaskCitizenId(id);
  if (digits >= 7) FUZZ_CHECK(!absl::StrContains(masked, id));
  FUZZ_CHECK(masked.size() <= 12);
  const absl::Status date_status = lienthong::validation::ValidateDate(date, now);
  if (!date_status.ok()) {
    FUZZ_CHECK(date_status.code() == absl::StatusCode::kInvalidArgument);
  }
  return 0;
}
