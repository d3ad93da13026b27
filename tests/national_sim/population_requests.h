// Requests to the simulated population database, for its tests: SOAP
// bodies of lookups and identity checks, and the signed headers, each part
// of which a test may spoil. Header-only; all synthetic.
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_POPULATION_REQUESTS_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_POPULATION_REQUESTS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {

// The lookup's elements; each may be spoiled by a test.
struct LookupFields {
  std::string request_id = "LT-test-1";
  std::string procedure = "1.001193";
  std::string integration = "037";
  std::string officer = "001085004321";
  std::string unit = "000.00.31.H31";
  std::string account = "nguyenvana";
  std::string name;   // HoVaTen, optional
  std::string birth;  // NgayThangNam, optional
};

// A SOAP request with `operation` holding `elements`. The prefix is not the
// gateway's "dan": matching is on local names.
inline std::string Soap(const std::string& operation,
                        const std::string& elements) {
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
      "xmlns:q=\"http://dancuquocgia.bca\"><s:Header/><s:Body><q:",
      operation, ">", elements, "</q:", operation, "></s:Body></s:Envelope>");
}

// <q:name>value</q:name>
inline std::string E(const std::string& name, const std::string& value) {
  return absl::StrCat("<q:", name, ">", value, "</q:", name, ">");
}

inline std::string IdElement(const std::string& id) {
  return E(id.size() == 9 ? "SoCMND" : "SoDinhDanh", id);
}

inline std::string SoapLookup(const std::string& id,
                              const LookupFields& f = {}) {
  std::string elements = absl::StrCat(
      E("MaYeuCau", f.request_id), E("MaDVC", f.procedure),
      E("MaTichHop", f.integration), E("MaCanBo", f.officer),
      E("MaDonVi", f.unit), E("TaiKhoan", f.account), IdElement(id));
  if (!f.name.empty()) absl::StrAppend(&elements, E("HoVaTen", f.name));
  if (!f.birth.empty()) {
    absl::StrAppend(&elements, "<q:NgayThangNamSinh>",
                    E("NgayThangNam", f.birth), "</q:NgayThangNamSinh>");
  }
  return Soap("TraCuuThongTinCongDan", elements);
}

inline std::string SoapCheck(const std::string& id, const std::string& name,
                             const std::string& service = "033",
                             const std::string& officer = "001085004321") {
  return Soap(
      "XacThucThongTinCongDanRequest",
      absl::StrCat(E("MaYeuCau", "LT-test-2"), E("MaDichVu", service),
                   E("MaCanBo", officer), IdElement(id), E("HoVaTen", name)));
}

// Headers for the population DB; each field may be spoiled by a test.
struct PopulationAuth {
  std::string client = "VN/GOV/000.00.00.H31/LIENTHONG";
  std::string key = "dev-population-key";
  std::string user = "lienthong-dev";
  std::string secret = "dev-population-secret";
  std::string auth_url = "https://c06.sim.lienthong.local/xacthuc";
  int64_t clock_skew_s = 0;
  bool seconds = false;  // Timestamp in seconds instead of milliseconds
};

// The headers an adapter sends at `now`, names lower-case.
inline std::map<std::string, std::string> PopulationHeaderMap(
    const PopulationAuth& auth, absl::Time now) {
  const absl::Time sent = now + absl::Seconds(auth.clock_skew_s);
  const std::string timestamp = absl::StrCat(
      auth.seconds ? absl::ToUnixSeconds(sent) : absl::ToUnixMillis(sent));
  return {{"content-type", "text/xml; charset=utf-8"},
          {"soapaction", "\"\""},
          {"x-road-client", auth.client},
          {"apikey", auth.key},
          {"timestamp", timestamp},
          {"authorization", PopulationAuthorization(auth.auth_url, auth.user,
                                                    timestamp, auth.secret)}};
}

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_POPULATION_REQUESTS_H_
