// The simulated business registry (đăng ký doanh nghiệp): enterprises by tax
// code over JSON/HTTPS, the system the "ministry-rest-json" adapter is
// tried against. Its shape is assumed (no public specification was used):
//
//   GET /dkkd/api/v1/doanh-nghiep/{maSoThue}   with X-Api-Key
//   200 {"maLoi": "00", "maGiaoDich": "DKKD-...", "duLieu": {"maSoThue",
//        "tenDoanhNghiep", "tinhTrang", "ngayThanhLap", "diaChiTruSo",
//        "vonDieuLe" (a number), "nguoiDaiDienPhapLuat": {"hoTen",
//        "chucDanh"}}}
//   404 {"maLoi": "404", ...}  no such enterprise: tax codes ending in 0000
//   200 {"maLoi": "99", "thongBao": "... <maSoThue> ..."}  a refusal
//        answered as HTTP 200: tax codes ending in 9999
//   400 a tax code that is not 10 digits (optionally "-" and 3 more)
//   401 a wrong or missing X-Api-Key
//
// Every enterprise is generated from its tax code (synthetic, the same on
// every ask). Knobs and counters: system "business_registry".
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_SYSTEMS_BUSINESS_REGISTRY_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_SYSTEMS_BUSINESS_REGISTRY_H_

#include "tests/national_sim/sim_system.h"

namespace lienthong::sim {

inline constexpr char kBusinessRegistryApiKey[] = "dev-business-registry-key";
inline constexpr char kBusinessRegistryPath[] = "/dkkd/api/v1/doanh-nghiep/";

SimSystemEntry BusinessRegistrySystem();

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SYSTEMS_BUSINESS_REGISTRY_H_
