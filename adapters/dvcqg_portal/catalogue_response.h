// Translation of the national procedure database's answers through the
// portal (docs/wire-formats.md, "Catalogue"): LayDanhSachTTHC's list
// ({"result": [{"MATTHC", "TENTTHC", ...}]}) and LayThuTuc's procedure
// ({"result": [{"MATTHC", "TENTTHC", "LINHVUCTHUCHIEN": [{"MALINHVUC",
// "TENLINHVUC"}], "CACHTHUCTHUCHIEN": [{"KENH", ...}], "COQUANTHUCHIEN":
// [{"MADONVI", "TENDONVI"}], "TRANGTHAI", ...}]}), as the public source
// reads them. Every key is optional; numbers may come as strings.
//
// All functions are thread-safe and keep no state.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_CATALOGUE_RESPONSE_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_CATALOGUE_RESPONSE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::adapters::dvcqg {

// Longest code and text kept from the catalogue, in bytes; longer entries
// are cut (codes: the entry is skipped).
inline constexpr size_t kMaxCatalogueCodeBytes = 32;
inline constexpr size_t kMaxCatalogueTextBytes = 2000;

// Returns the procedures a successful LayDanhSachTTHC answer lists, with
// code and name (detailed false). Entries that are not objects or have no
// usable MATTHC are skipped. Fails with UNAVAILABLE when "result" is
// missing or not an array.
absl::StatusOr<std::vector<lienthong::v1::NationalProcedure>>
ParseCatalogueList(const google::protobuf::Struct& json);

// Returns the first procedure of a successful LayThuTuc answer, detailed.
// Fails with NOT_FOUND when "result" is empty, UNAVAILABLE when it is
// missing or malformed or its entry has no MATTHC.
absl::StatusOr<lienthong::v1::NationalProcedure> ParseProcedureDetail(
    const google::protobuf::Struct& json);

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_CATALOGUE_RESPONSE_H_
