// The "vneid-identity-rest" adapter: identity verification against VNeID with
// an OAuth2 client-credentials token (cached, refreshed before it expires,
// one refresh at a time however many calls wait for it), then JSON over HTTPS
// (docs/wire-formats.md).
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_VNEID_ADAPTER_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_VNEID_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::vneid {

std::unique_ptr<AdapterFactory> MakeVneidIdentityRestFactory();

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_VNEID_ADAPTER_H_
