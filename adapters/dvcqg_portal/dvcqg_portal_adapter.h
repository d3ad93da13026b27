// The "dvcqg-portal-rest" adapter: synchronisation with the National Public
// Service Portal (Cổng dịch vụ công quốc gia) as JSON over HTTPS
// (docs/wire-formats.md): procedures created, updated and withdrawn, and
// dossier statuses pushed, each under the caller's X-Idempotency-Key.
// Config: lienthong.config.v1.DvcqgPortalRestConfig.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_DVCQG_PORTAL_ADAPTER_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_DVCQG_PORTAL_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::dvcqg {

// Default paths, used when the config leaves them empty.
inline constexpr char kCreateProcedurePath[] = "/dvcqg/api/tthc/them";
inline constexpr char kUpdateProcedurePath[] = "/dvcqg/api/tthc/capnhat";
inline constexpr char kWithdrawProcedurePath[] = "/dvcqg/api/tthc/thuhoi";
inline constexpr char kDossierStatusPath[] =
    "/dvcqg/api/hoso/capnhattrangthai";

// The factory of "dvcqg-portal-rest". Create() fails with INVALID_ARGUMENT
// when upstream.base_url is not https://, api_key is empty or a path does
// not start with "/", and INTERNAL without an HTTP client in the context.
std::unique_ptr<AdapterFactory> MakeDvcqgPortalRestFactory();

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_DVCQG_PORTAL_ADAPTER_H_
