// Parses the population database's answer to an identity check
// (XacThucThongTinCongDanRequest): KetQuaXacThucResponse{TonTai}.
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_VERIFY_RESPONSE_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_VERIFY_RESPONSE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters::c06 {

// Returns TonTai of the reply of HTTP status `http_status` with `body`: true
// when a citizen with the ID and name asked exists, false when not. TonTai
// is an xs:boolean ("true", "false", "1", "0", surrounding whitespace
// allowed) in a KetQuaXacThucResponse element directly under Body.
//
// Fails as OpenSoapBody (soap_envelope.h) for HTTP errors and faults, and
// with UNAVAILABLE "population database sent a malformed reply: <what>" for
// a missing KetQuaXacThucResponse or TonTai, or a TonTai that is not a
// boolean. Thread-safe.
absl::StatusOr<bool> ParseVerifyResponse(long http_status,
                                         absl::string_view body);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_VERIFY_RESPONSE_H_
