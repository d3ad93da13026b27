// Parses the population database's answer to a lookup
// (TraCuuThongTinCongDan): an ns1:CongdanCollection directly under the SOAP
// Body, holding zero or one CongDan (docs/wire-formats.md, "Population
// database"), into the public lienthong.v1.Citizen.
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_LOOKUP_RESPONSE_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_LOOKUP_RESPONSE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::adapters::c06 {

// One lookup's answer.
struct LookupReply {
  // False when the collection is empty: no citizen has the ID.
  bool found = false;
  // The whole record when found; every field the reply carries is set.
  lienthong::v1::Citizen citizen;
};

// Returns the reply of HTTP status `http_status` with `body` to a lookup of
// `asked_id` (12 digits, sent as SoDinhDanh, or 9, sent as SoCMND).
//
// Every element is optional; empty elements count as absent. Text is
// returned in NFC. Names may be structured ({Ho, ChuDem, Ten}, possibly all
// in Ten) or one string, for the citizen and every relative; a one-string
// name is split by SplitVietnameseName and kept as written (often upper
// case). Coded elements (GioiTinh, DanToc, TonGiao, TinhTrangHonNhan,
// NhomMau, QuocTich, QuocGia, QuanHe) must look like codes (codes.h): known
// codes are mapped, unknown ones kept as recorded. IDs: SoDinhDanh 12 digits,
// SoCMND 9 or 12. Dates: real calendar dates not after today (Vietnam), Nam
// agreeing with NgayThangNam when both are given. Addresses in Vietnam are
// checked in the scheme of their date (validation::SchemeOf: legacy with a
// MaQuanHuyen or a collection ThoiDiemDuLieu before 1 July 2025).
//
// Fails as OpenSoapBody (soap_envelope.h) for HTTP errors and faults, and
// with UNAVAILABLE:
//  - "population database sent a malformed reply: <what>" for a missing
//    CongdanCollection, more than one CongDan, an element that breaks the
//    rules above ("bad MaTinhThanh in ThuongTru"), or a record without the
//    ID that was asked by (SoDinhDanh, or SoCMND for a 9-digit ID);
//  - "population database answered about another citizen" when the record's
//    ID is not the one asked.
// <what> names the element only; no message carries the body or personal
// data. Thread-safe.
absl::StatusOr<LookupReply> ParseLookupResponse(long http_status,
                                                absl::string_view body,
                                                absl::string_view asked_id);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_LOOKUP_RESPONSE_H_
