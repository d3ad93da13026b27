// The gRPC services over citizen data: IdentityService (VerifyIdentity,
// SignInWithVneid), PopulationService (LookupCitizen) and RecordService
// (GetRecord). Each method validates its request with the rules of
// gateway/validation, asks the policy, and takes the call path of
// call_path.h.
#ifndef LIENTHONG_GATEWAY_SERVER_CITIZEN_SERVICES_H_
#define LIENTHONG_GATEWAY_SERVER_CITIZEN_SERVICES_H_

#include <memory>

#include "gateway/server/call_path.h"
#include "grpcpp/impl/codegen/service_type.h"

namespace lienthong::server {

// Each returns the service, serving its calls through `services`.
// REQUIRES: `services` outlives the service.
std::shared_ptr<grpc::Service> NewIdentityService(const Services* services);
std::shared_ptr<grpc::Service> NewPopulationService(const Services* services);
std::shared_ptr<grpc::Service> NewRecordService(const Services* services);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_CITIZEN_SERVICES_H_
