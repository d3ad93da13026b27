// Parses the population database's reply to TraCuuThongTinCongDan (SOAP 1.1,
// docs/wire-formats.md) into the public lienthong.v1.Citizen, and maps HTTP
// statuses and SOAP faults to gateway errors.
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_RESPONSE_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_RESPONSE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::adapters::c06 {

// One lookup's answer.
struct LookupReply {
  // False when CongdanCollection is empty: no citizen has the ID.
  bool found = false;
  // The whole record when found; every field the reply carries is set.
  lienthong::v1::Citizen citizen;
  // MaTraLoi: the national system's reference for the exchange.
  std::string reference;
};

// Returns the reply of HTTP status `http_status` with body `body`.
//
// Elements are matched by local name, whatever their namespace prefix. Codes
// are checked (GioiTinh 1|2, DanToc 2 digits, QuanHe 01..06|09, province 2
// digits, commune 5, legacy district 3, IDs 12 or 9 digits, real calendar
// dates, not after the wall clock's today); text is returned in NFC. HoVaTen
// may be structured ({Ho, ChuDem, Ten}) or one string, for the citizen and
// for Cha/Me/VoChong alike; a one-string name is split by
// SplitVietnameseName. Empty optional elements count as absent.
//
// Fails with UNAVAILABLE:
//  - "population database is busy" for a soap:Server fault whose
//    faultstring starts with "He thong dang ban" (retriable);
//  - "population database reported an internal error" for other
//    soap:Server faults;
//  - "population database rejected the gateway's request" for a soap:Client
//    fault or HTTP 401/403;
//  - a retriable error for HTTP 502/503/504, a plain one for other non-200
//    statuses without a fault;
//  - "population database sent a malformed reply: <what>" for XML that
//    does not parse, misses a required element or carries a bad code or
//    date. <what> names the element only.
// Retriable errors are marked for adapters::IsRetriable. No message carries
// the body, the fault string or personal data. Thread-safe.
absl::StatusOr<LookupReply> ParseLookupResponse(long http_status,
                                                absl::string_view body);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_RESPONSE_H_
