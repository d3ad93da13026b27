// Builds the population database's SOAP 1.1 request envelopes: a lookup
// (dan:TraCuuThongTinCongDan) and an identity check
// (dan:XacThucThongTinCongDanRequest), namespace http://dancuquocgia.bca
// (docs/wire-formats.md, "Population database").
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_REQUEST_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_REQUEST_H_

#include <string>

namespace lienthong::adapters::c06 {

// What one lookup sends. Strings are UTF-8; the builder escapes them.
struct LookupEnvelopeInput {
  std::string request_id;        // MaYeuCau: unique per request.
  std::string procedure_code;    // MaDVC: the national code, "1.001193".
  std::string integration_code;  // MaTichHop: from the adapter's config.
  std::string officer_id;        // MaCanBo: the officer's 12-digit ID.
  std::string officer_unit;      // MaDonVi: the officer's unit.
  std::string officer_account;   // TaiKhoan: the officer's account.
  // SoDinhDanh when 12 digits, SoCMND when 9 (an old ID card number).
  std::string citizen_id;
};

// What one identity check sends.
struct VerifyEnvelopeInput {
  std::string request_id;    // MaYeuCau: unique per request.
  std::string service_code;  // MaDichVu: from the adapter's config.
  std::string officer_id;    // MaCanBo: the officer's 12-digit ID.
  // SoDinhDanh when 12 digits, SoCMND when 9.
  std::string citizen_id;
  // HoVaTen, already folded (adapters/common/text.h FoldName).
  std::string folded_name;
};

// Return the complete request document, XML declaration included, with
// every value XML-escaped; characters that XML 1.0 cannot carry (control
// characters other than tab, CR, LF) are dropped. Every element listed in
// the input is sent, in that order. Thread-safe.
// REQUIRES: the inputs are validated (gateway/validation/).
std::string BuildLookupEnvelope(const LookupEnvelopeInput& input);
std::string BuildVerifyEnvelope(const VerifyEnvelopeInput& input);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_REQUEST_H_
