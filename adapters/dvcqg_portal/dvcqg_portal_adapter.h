// The "dvcqg-portal-rest" adapter: synchronisation with the National Public
// Service Portal (Cổng dịch vụ công quốc gia) through its integration
// adapter, JSON over HTTPS (docs/wire-formats.md): a session from a
// sign-in, reused until the portal refuses it; then every call posted to
// one endpoint with {"session", "madonvi", "service", ...}. It registers
// dossiers (DongBoHoSoMC, after a TraCuuHoSo lookup decides isUpdating),
// shows their progress (CapNhatTienDoHoSoMC) and publishes the province's
// online services, each change under the caller's X-Idempotency-Key.
// Config: DvcqgPortalRestConfig (dvcqg_portal_config.proto).
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_DVCQG_PORTAL_ADAPTER_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_DVCQG_PORTAL_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::dvcqg {

// error_code values that mean a refused session when the config names none.
inline constexpr char kDefaultSessionErrorCode[] = "401";

// The factory of "dvcqg-portal-rest". Create() fails with INVALID_ARGUMENT
// naming the field when upstream.base_url is not https://, an endpoint is
// missing or does not start with "/", username, password or madonvi is
// empty, or dstcode is not visible ASCII; and with INTERNAL without an HTTP
// client in the context.
std::unique_ptr<AdapterFactory> MakeDvcqgPortalRestFactory();

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_DVCQG_PORTAL_ADAPTER_H_
