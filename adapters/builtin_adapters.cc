// The one list of adapters built into Lienthong. A new national system means
// a new folder under adapters/ and one line here.
#include "adapters/c06_population/c06_adapter.h"
#include "adapters/civil_status/civil_status_adapter.h"
#include "adapters/dvcqg_portal/dvcqg_portal_adapter.h"
#include "adapters/grpc_upstream/grpc_upstream_adapter.h"
#include "adapters/labour_affairs/labour_affairs_adapter.h"
#include "adapters/ministry_rest_json/ministry_rest_json_adapter.h"
#include "adapters/registry.h"
#include "adapters/residence/residence_adapter.h"
#include "adapters/social_insurance/social_insurance_adapter.h"
#include "adapters/vneid_identity/vneid_adapter.h"

namespace lienthong::adapters {

void RegisterBuiltinAdapters(AdapterRegistry& registry) {
  // Names are distinct by construction; Register() only fails on a repeat.
  (void)registry.Register(c06::MakeC06PopulationSoapFactory());
  (void)registry.Register(vneid::MakeVneidOidcFactory());
  (void)registry.Register(grpc_upstream::MakeGrpcUpstreamFactory());
  (void)registry.Register(dvcqg::MakeDvcqgPortalRestFactory());
  (void)registry.Register(civil_status::MakeCivilStatusRestFactory());
  (void)registry.Register(residence::MakeResidenceRestFactory());
  (void)registry.Register(social_insurance::MakeSocialInsuranceRestFactory());
  (void)registry.Register(labour_affairs::MakeLabourAffairsRestFactory());
  (void)registry.Register(ministry_rest_json::MakeMinistryRestJsonFactory());
}

}  // namespace lienthong::adapters
