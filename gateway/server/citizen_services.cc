#include "gateway/server/citizen_services.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/record.h"
#include "gateway/policy/policy.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/officer.h"
#include "gateway/validation/records.h"
#include "gateway/validation/text.h"
#include "gateway/validation/vneid_sign_in.h"
#include "google/protobuf/util/field_mask_util.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "lienthong/v1/records.grpc.pb.h"

namespace lienthong::server {
namespace {

// Clears the fields of `citizen` that `mask` does not name, as
// FieldMaskUtil::TrimMessage does; for a mask of top-level fields only (a
// grant's usual form) without building TrimMessage's tree of paths on
// every call.
void TrimToMask(const google::protobuf::FieldMask& mask,
                lienthong::v1::Citizen* citizen) {
  const auto& paths = mask.paths();
  for (const std::string& path : paths) {
    if (path.find('.') != std::string::npos) {
      google::protobuf::util::FieldMaskUtil::TrimMessage(mask, citizen);
      return;
    }
  }
  const google::protobuf::Reflection* reflection = citizen->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> present;
  reflection->ListFields(*citizen, &present);
  for (const google::protobuf::FieldDescriptor* field : present) {
    if (std::find(paths.begin(), paths.end(), field->name()) == paths.end()) {
      reflection->ClearField(citizen, field);
    }
  }
}

class IdentityServiceImpl final
    : public lienthong::v1::IdentityService::CallbackService {
 public:
  explicit IdentityServiceImpl(const Services* services)
      : services_(services) {}

  // An authorisation code can be exchanged once: never retried. The citizen
  // is known only from the answer, and is then logged masked and audited
  // hashed like any other.
  grpc::ServerUnaryReactor* SignInWithVneid(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::VneidSignInRequest* request,
      lienthong::v1::VneidSignInResponse* response) override {
    auto call = std::make_shared<CallRecord>(kSignInWithVneid, *request, "", "",
                                             "", services_->auditing());
    Services::Admitted admitted;
    absl::Status status = services_->Admit(*ctx, kSignInWithVneid, admitted);
    call->caller = admitted.caller;
    if (status.ok()) status = validation::ValidateVneidSignIn(*request);
    if (status.ok()) {
      status = admitted.route->sign_in->CheckRedirectUri(
          admitted.caller.id, request->redirect_uri());
    }
    return Serve(
        *services_, *ctx, call, std::move(admitted), status, response,
        [request](const Route& route, const adapters::CallContext& context,
                  adapters::Callback<lienthong::v1::VneidSignInResponse> done) {
          route.sign_in->SignIn(*request, context, std::move(done));
        },
        [call,
         response](adapters::Reply<lienthong::v1::VneidSignInResponse> reply) {
          *response = std::move(reply.value);
          call->citizen_id = response->citizen_id();
        },
        /*idempotent=*/false);
  }

  grpc::ServerUnaryReactor* VerifyIdentity(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::VerifyIdentityRequest* request,
      lienthong::v1::VerifyIdentityResponse* response) override {
    auto call = std::make_shared<CallRecord>(
        kVerifyIdentity, *request, request->citizen_id(), request->purpose(),
        request->dossier_id(), services_->auditing());
    call->officer = request->officer();
    Services::Admitted admitted;
    absl::Status status = services_->Admit(*ctx, kVerifyIdentity, admitted);
    call->caller = admitted.caller;
    if (status.ok()) status = Validate(*request);
    if (status.ok()) {
      status = admitted.runtime->policy->CheckDossier(admitted.caller.id,
                                                      request->dossier_id());
    }
    return Serve(
        *services_, *ctx, std::move(call), std::move(admitted), status,
        response,
        [request](
            const Route& route, const adapters::CallContext& context,
            adapters::Callback<lienthong::v1::VerifyIdentityResponse> done) {
          route.identity->Verify(*request, context, std::move(done));
        },
        [services = services_, response](
            adapters::Reply<lienthong::v1::VerifyIdentityResponse> reply) {
          *response = std::move(reply.value);
          response->set_reference(services->ReplyReference(
              response->reference().empty() ? reply.reference
                                            : response->reference()));
        });
  }

 private:
  static absl::Status Validate(const lienthong::v1::VerifyIdentityRequest& r) {
    const google::type::Date* dob =
        r.has_birth_date() ? &r.birth_date() : nullptr;
    if (dob != nullptr) {
      LIENTHONG_RETURN_IF_ERROR(
          validation::ValidateDate(*dob, absl::Now(), "birth_date"));
    }
    LIENTHONG_RETURN_IF_ERROR(
        validation::ValidateCitizenId(r.citizen_id(), dob, absl::Now()));
    // Here, not only in the adapter: a malformed name is the caller's
    // error even while the national system's breaker is open, and a route
    // to an adapter that does not fold names must refuse it too.
    LIENTHONG_RETURN_IF_ERROR(
        validation::ValidatePersonName(r.full_name(), "full_name"));
    if (!r.purpose().empty()) {
      LIENTHONG_RETURN_IF_ERROR(validation::ValidatePurpose(r.purpose()));
    }
    LIENTHONG_RETURN_IF_ERROR(validation::ValidateDossierId(r.dossier_id()));
    return validation::ValidateOfficer(r.has_officer(), r.officer(),
                                       absl::Now());
  }

  const Services* services_;
};

class PopulationServiceImpl final
    : public lienthong::v1::PopulationService::CallbackService {
 public:
  explicit PopulationServiceImpl(const Services* services)
      : services_(services) {}

  grpc::ServerUnaryReactor* LookupCitizen(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::LookupCitizenRequest* request,
      lienthong::v1::Citizen* response) override {
    auto call = std::make_shared<CallRecord>(
        kLookupCitizen, *request, request->citizen_id(), request->purpose(),
        request->dossier_id(), services_->auditing());
    call->officer = request->officer();
    Services::Admitted admitted;
    absl::Status status = services_->Admit(*ctx, kLookupCitizen, admitted);
    call->caller = admitted.caller;
    google::protobuf::FieldMask mask;
    if (status.ok()) status = Validate(*request);
    if (status.ok()) {
      status = admitted.runtime->policy->CheckDossier(admitted.caller.id,
                                                      request->dossier_id());
    }
    if (status.ok()) {
      auto fields = admitted.runtime->policy->LookupFields(
          admitted.caller.id, request->purpose(), request->fields());
      status = fields.status();
      if (fields.ok()) mask = *std::move(fields);
    }
    return Serve(
        *services_, *ctx, std::move(call), std::move(admitted), status,
        response,
        [request](const Route& route, const adapters::CallContext& context,
                  adapters::Callback<lienthong::v1::Citizen> done) {
          route.population->Lookup(*request, context, std::move(done));
        },
        [services = services_, ctx, response, mask = std::move(mask)](
            adapters::Reply<lienthong::v1::Citizen> reply) {
          *response = std::move(reply.value);
          TrimToMask(mask, response);
          if (!reply.reference.empty()) {
            services->AddTrailer(*ctx, "lienthong-reference", reply.reference);
          }
        });
  }

 private:
  static absl::Status Validate(const lienthong::v1::LookupCitizenRequest& r) {
    LIENTHONG_RETURN_IF_ERROR(
        validation::ValidateCitizenId(r.citizen_id(), nullptr, absl::Now()));
    LIENTHONG_RETURN_IF_ERROR(validation::ValidatePurpose(r.purpose()));
    LIENTHONG_RETURN_IF_ERROR(validation::ValidateDossierId(r.dossier_id()));
    LIENTHONG_RETURN_IF_ERROR(policy::Policy::CheckFieldMaskSize(r.fields()));
    return validation::ValidateOfficer(r.has_officer(), r.officer(),
                                       absl::Now());
  }

  const Services* services_;
};

class RecordServiceImpl final
    : public lienthong::v1::RecordService::CallbackService {
 public:
  explicit RecordServiceImpl(const Services* services) : services_(services) {}

  // Routed by record type to the adapter instance declaring it; the reply
  // keeps only the fields granted (and asked for), in the type's order.
  grpc::ServerUnaryReactor* GetRecord(
      grpc::CallbackServerContext* ctx,
      const lienthong::v1::GetRecordRequest* request,
      lienthong::v1::Record* response) override {
    auto call = std::make_shared<CallRecord>(
        kGetRecord, *request, "", request->purpose(), request->dossier_id(),
        services_->auditing());
    call->officer = request->officer();
    Services::Admitted admitted;
    absl::Status status =
        services_->Admit(*ctx, kGetRecord, admitted, /*by_method=*/false);
    call->caller = admitted.caller;
    const RecordRoute* type = nullptr;
    if (status.ok()) {
      status =
          validation::ValidateRecordName(request->record_type(), "record_type");
    }
    if (status.ok()) {
      type = admitted.runtime->FindRecordType(request->record_type());
      if (type == nullptr) {
        status = absl::InvalidArgumentError(absl::StrCat(
            "record_type: '", request->record_type(), "' is not served"));
      }
    }
    if (status.ok()) {
      admitted.route = type->route;
      call->record_type = request->record_type();
      status =
          validation::ValidateGetRecord(*request, *type->schema, absl::Now());
    }
    auto fetch = std::make_shared<adapters::RecordRequest>();
    if (status.ok()) {
      fetch->record_type = request->record_type();
      fetch->parameters = {request->parameters().begin(),
                           request->parameters().end()};
      fetch->purpose =
          validation::NationalProcedureCode(request->purpose()).value_or("");
      call->record_key_text = audit::RecordKeyText(
          {fetch->parameters.begin(), fetch->parameters.end()});
      status = admitted.runtime->policy->CheckDossier(admitted.caller.id,
                                                      request->dossier_id());
    }
    std::set<std::string> granted;
    if (status.ok()) {
      auto fields = admitted.runtime->policy->RecordFields(
          admitted.caller.id, request->purpose(), request->record_type(),
          {request->fields().begin(), request->fields().end()});
      status = fields.status();
      if (fields.ok()) granted = *std::move(fields);
    }
    std::string source = type != nullptr ? type->route->adapter_name : "";
    return Serve<adapters::RecordReply>(
        *services_, *ctx, std::move(call), std::move(admitted), status,
        response,
        [fetch](const Route& route, const adapters::CallContext& context,
                adapters::Callback<adapters::RecordReply> done) {
          route.records->Fetch(*fetch, context, std::move(done));
        },
        [services = services_, response, fetch, granted = std::move(granted),
         source =
             std::move(source)](adapters::Reply<adapters::RecordReply> reply) {
          response->set_record_type(fetch->record_type);
          for (auto& [name, value] : reply.value.fields) {
            if (value.empty() || granted.count(name) == 0) continue;
            auto* field = response->add_fields();
            field->set_name(name);
            field->set_value(std::move(value));
          }
          response->set_source_system(source);
          response->set_reference(services->ReplyReference(reply.reference));
        });
  }

 private:
  const Services* services_;
};

}  // namespace

std::shared_ptr<grpc::Service> NewIdentityService(const Services* services) {
  return std::make_shared<IdentityServiceImpl>(services);
}

std::shared_ptr<grpc::Service> NewPopulationService(const Services* services) {
  return std::make_shared<PopulationServiceImpl>(services);
}

std::shared_ptr<grpc::Service> NewRecordService(const Services* services) {
  return std::make_shared<RecordServiceImpl>(services);
}

}  // namespace lienthong::server
