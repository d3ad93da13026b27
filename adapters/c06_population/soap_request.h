// Builds the population database's TraCuuThongTinCongDan SOAP 1.1 request
// envelope (docs/wire-formats.md, "Population database").
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_REQUEST_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_REQUEST_H_

#include <string>

#include "google/type/date.pb.h"

namespace lienthong::adapters::c06 {

// What one lookup sends. Strings are UTF-8; the builder escapes them.
struct LookupEnvelopeInput {
  std::string request_id;    // MaYeuCau: unique per request.
  std::string unit_code;     // MaDVC: the provincial unit, "000.00.00.H31".
  std::string officer_code;  // MaCanBo: the officer or calling system.
  // SoDinhDanh when 12 digits, SoCMND when 9 (an old ID card number).
  std::string citizen_id;
  // HoVaTen, already folded (see adapters/common/text.h FoldName); empty
  // omits the element.
  std::string folded_name;
  // NgayThangNamSinh: NgayThangNam yyyyMMdd, or Nam yyyy for a year-only
  // date; omitted when null or the year is 0. Not owned.
  const google::type::Date* birth_date = nullptr;
};

// Returns the complete request document, XML declaration included, with
// every value XML-escaped. Characters that XML 1.0 cannot carry (control
// characters other than tab, CR, LF) are dropped. Thread-safe.
// REQUIRES: `input.citizen_id` and `input.birth_date` are validated
// (gateway/validation/citizen_id.h).
std::string BuildLookupEnvelope(const LookupEnvelopeInput& input);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_REQUEST_H_
