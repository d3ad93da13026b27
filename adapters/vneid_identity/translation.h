// Translation between the public identity API and VNeID's wire format
// (docs/wire-formats.md, "VNeID"): the OAuth2 client-credentials token
// request and answer, and the verify request and answer. JSON goes through
// the messages in vneid_wire.proto.
//
// All functions are thread-safe and keep no state. No error message carries
// a reply body, a token, a secret or personal data.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_TRANSLATION_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_TRANSLATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/identity.pb.h"

namespace lienthong::adapters::vneid {

// Returns the form-url-encoded token request body
// "grant_type=client_credentials&client_id=...&client_secret=...", values
// percent-encoded (everything but ALPHA DIGIT - . _ ~, space as %20).
std::string BuildTokenRequestBody(absl::string_view client_id,
                                  absl::string_view client_secret);

// An access token and how long it lives from when it was issued.
struct Token {
  std::string access_token;
  absl::Duration expires_in;
};

// Returns the token of a token answer. HTTP 200 needs a non-empty
// access_token of visible ASCII (it goes into a header), token_type
// "Bearer" when given, and a positive expires_in.
//
// Fails with UNAVAILABLE: "VNeID rejected the gateway's credentials" for HTTP
// 400/401/403; retriable (adapters::IsRetriable) for 429/502/503/504; plain
// for other non-200; "VNeID sent a malformed reply: <what>" for a 200 that
// breaks the rules above.
absl::StatusOr<Token> ParseTokenResponse(long http_status,
                                         absl::string_view body);

// Returns the JSON verify body {"maYeuCau","soDinhDanh","hoVaTen"[,
// "ngaySinh"]}: hoVaTen is request.full_name folded (FoldName), ngaySinh
// yyyyMMdd, yyyy for a year-only date, absent without a birth date (or with
// year 0).
//
// Fails with INVALID_ARGUMENT when citizen_id is not 12 or 9 digits, or
// full_name is empty or does not fold (see adapters/common/text.h).
// REQUIRES: request.birth_date is validated (validation::ValidateDate).
absl::StatusOr<std::string> BuildVerifyBody(
    const lienthong::v1::VerifyIdentityRequest& request,
    absl::string_view request_id);

// Returns the result of a verify answer: ketQua KHOP as MATCH, KHONG_KHOP
// and KHONG_TIM_THAY both as NO_MATCH (which field differed, and the
// account level, are checked but not passed on), maTraLoi as reference.
//
// Fails with UNAUTHENTICATED for HTTP 401 (the token was refused: fetch a
// new one and try once more); UNAVAILABLE retriable for 429/502/503/504,
// plain for other non-200 and for a 200 whose "ma" is not "00"; UNAVAILABLE
// "VNeID sent a malformed reply: <what>" for a body that is not the JSON
// above, an unknown ketQua or field, a level outside 0..2, or fields that
// contradict the result (KHOP or KHONG_TIM_THAY listing mismatches,
// KHONG_KHOP listing none, KHONG_TIM_THAY with a level).
absl::StatusOr<lienthong::v1::VerifyIdentityResponse> ParseVerifyResponse(
    long http_status, absl::string_view body);

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_TRANSLATION_H_
