#include "adapters/c06_population/verify_response.h"

#include "adapters/c06_population/soap_envelope.h"
#include "gateway/status/status_macros.h"

namespace lienthong::adapters::c06 {

absl::StatusOr<bool> ParseVerifyResponse(long http_status,
                                         absl::string_view body) {
  pugi::xml_document doc;
  LIENTHONG_ASSIGN_OR_RETURN(pugi::xml_node soap_body,
                             OpenSoapBody(http_status, body, doc));
  pugi::xml_node result = Child(soap_body, "KetQuaXacThucResponse");
  if (!result) return Malformed("missing KetQuaXacThucResponse");
  pugi::xml_node exists = Child(result, "TonTai");
  if (!exists) return Malformed("missing TonTai");
  const absl::string_view value = Text(exists);
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return Malformed("bad TonTai");
}

}  // namespace lienthong::adapters::c06
