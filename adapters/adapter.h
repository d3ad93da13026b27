// Interfaces between the gateway core and the adapters to national systems:
// one interface per capability (identity, citizen sign-in, population,
// portal, steps at agencies, records of the ministries' databases), the call context every operation receives, and the factory
// through which the config creates adapter instances by name.
//
// Every operation is asynchronous: it takes the request, a call context and a
// completion callback, returns at once, and calls the callback exactly once,
// from any thread, when the national system has answered or the call failed.
#ifndef LIENTHONG_ADAPTERS_ADAPTER_H_
#define LIENTHONG_ADAPTERS_ADAPTER_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "lienthong/v1/identity.pb.h"
#include "lienthong/v1/population.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::metrics {
class Counter;  // gateway/metrics/metric.h
}  // namespace lienthong::metrics

namespace lienthong::adapters {

class HttpClient;  // adapters/common/http/http_client.h

// What an adapter knows about the call it serves.
struct CallContext {
  // The national system must have answered by then; the adapter gives up and
  // fails with DEADLINE_EXCEEDED after it.
  absl::Time deadline = absl::InfiniteFuture();
  // The calling provincial system's identity (from its certificate).
  std::string caller;
  // Correlates the gateway's logs with the national system's reference.
  std::string trace_id;
};

// The answer of a national system, with what the core records about it.
template <typename T>
struct Reply {
  T value;
  // The national system's own identifier for the exchange, if it gave one.
  std::string reference;
};

template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<Reply<T>>) &&>;

// Identity checks: does a citizen with this ID and name exist (MATCH or
// NO_MATCH, never which field differs; identity.proto).
class IdentityAdapter {
 public:
  virtual ~IdentityAdapter() = default;
  // Verifies `request` (already validated by the core). Calls `done` with the
  // result, or INVALID_ARGUMENT (a name the national system cannot take) /
  // UNAVAILABLE / DEADLINE_EXCEEDED / INTERNAL. Thread-safe.
  virtual void Verify(const lienthong::v1::VerifyIdentityRequest& request,
                      const CallContext& context,
                      Callback<lienthong::v1::VerifyIdentityResponse> done) = 0;
};

// Citizens' sign-in with VNeID (OpenID Connect): an authorisation code a
// portal received becomes the identity of the citizen who signed in.
class CitizenSignInAdapter {
 public:
  virtual ~CitizenSignInAdapter() = default;
  // Returns OK when `caller` may name `redirect_uri` (the adapter's config
  // lists the URIs per caller and for all), else INVALID_ARGUMENT without
  // echoing the URI. Makes no upstream call. Thread-safe.
  virtual absl::Status CheckRedirectUri(absl::string_view caller,
                                        absl::string_view redirect_uri) const = 0;
  // Exchanges `request.authorization_code` (request already validated) and
  // verifies the ID token. Calls `done` with who signed in, or with
  // INVALID_ARGUMENT / UNAUTHENTICATED / UNAVAILABLE / DEADLINE_EXCEEDED /
  // RESOURCE_EXHAUSTED / INTERNAL, never marked retriable: a code can be
  // exchanged once. Thread-safe.
  virtual void SignIn(const lienthong::v1::VneidSignInRequest& request,
                      const CallContext& context,
                      Callback<lienthong::v1::VneidSignInResponse> done) = 0;
};

// Population-database lookups.
class PopulationAdapter {
 public:
  virtual ~PopulationAdapter() = default;
  // Fetches the whole record of `request.citizen_id` (already validated). The
  // core trims it to the caller's grant. Calls `done` with the record, or
  // NOT_FOUND / UNAVAILABLE / DEADLINE_EXCEEDED / INTERNAL. Thread-safe.
  virtual void Lookup(const lienthong::v1::LookupCitizenRequest& request,
                      const CallContext& context,
                      Callback<lienthong::v1::Citizen> done) = 0;
};

// ---- The ministries' other databases: records by type -------------------

// One key parameter a record type takes.
struct RecordParameter {
  std::string name;
  // RE2-style regular expression (ECMAScript subset std::regex accepts) the
  // whole value must match, e.g. "[0-9]{10}([0-9]{3})?"; empty: any
  // printable text. The core checks it before the adapter is called.
  std::string pattern;
  bool required = true;
};

// A record type an adapter serves: what a request must name and what the
// reply may hold. The core checks routes, grants and requests against it.
struct RecordType {
  // e.g. "enterprise": [a-z0-9_]{1,64}.
  std::string name;
  std::vector<RecordParameter> parameters;
  // The fields a reply may hold, in this order.
  std::vector<std::string> fields;
};

// A request for one record. Parameters are checked by the core against the
// type's declaration.
struct RecordRequest {
  std::string record_type;
  std::map<std::string, std::string> parameters;
  // The national procedure code the lookup serves ("1.001193").
  std::string purpose;
};

// A record as the national system gave it: named fields in the type's
// order; fields it did not give are absent.
struct RecordReply {
  std::vector<std::pair<std::string, std::string>> fields;
};

// Records of the ministries' databases (DESIGN.md, job 5).
class RecordAdapter {
 public:
  virtual ~RecordAdapter() = default;
  // The record types this adapter serves; fixed for its life. Thread-safe.
  virtual const std::vector<RecordType>& RecordTypes() const = 0;
  // Fetches one record of `request.record_type` (one of RecordTypes(),
  // parameters already validated). Calls `done` with the record (only
  // fields its type declares), or NOT_FOUND when the national system has
  // none, or UNAVAILABLE (marked retriable when another attempt may
  // succeed) / DEADLINE_EXCEEDED / INTERNAL. Thread-safe; never blocks.
  virtual void Fetch(const RecordRequest& request, const CallContext& context,
                     Callback<RecordReply> done) = 0;
};

// What the national portal made of one change.
struct PortalOutcome {
  enum class Kind {
    kApplied,        // the portal holds the change
    kAlreadyExists,  // a create of a code the portal has: update instead
    kRejected,       // refused for good; `reason` says why
  };
  Kind kind = Kind::kApplied;
  // kRejected: the portal's reason, as it gave it. For the dead-letter list
  // only: never put into a status message.
  std::string reason;
  // kApplied without sending: a lookup showed the change already at the
  // portal (a redelivery whose first attempt had arrived).
  bool found_at_portal = false;
};

// National public service portal synchronisation. Each operation that
// changes the portal sends one change under `idempotency_key`
// (X-Idempotency-Key). A portal that honours the key applies it once and
// answers a repeat as it answered the first time; the real portal may not
// (docs/wire-formats.md says what holds then), so the operations that can
// look first do (see each).
//
// Each calls `done` with the portal's verdict; or with UNAVAILABLE or
// DEADLINE_EXCEEDED marked retriable (adapters::IsRetriable) when the portal
// is down, overloaded, slow, refuses the gateway's sign-in, or answered
// something unreadable, so the change may or may not have arrived and
// should be sent again; or, not retriable, INVALID_ARGUMENT when the change
// cannot be put in the portal's format. Thread-safe; never blocks.
class PortalAdapter {
 public:
  virtual ~PortalAdapter() = default;
  // The province's online services: publish `procedure` (create: first
  // time; update: the portal has it), or stop offering it (withdraw: only
  // its code and national_code are read). REQUIRES: procedure.national_code
  // is set (the core maps codes before queueing).
  virtual void CreateProcedure(const lienthong::v1::Procedure& procedure,
                               const std::string& idempotency_key,
                               const CallContext& context,
                               Callback<PortalOutcome> done) = 0;
  virtual void UpdateProcedure(const lienthong::v1::Procedure& procedure,
                               const std::string& idempotency_key,
                               const CallContext& context,
                               Callback<PortalOutcome> done) = 0;
  virtual void WithdrawProcedure(const lienthong::v1::Procedure& procedure,
                                 const std::string& idempotency_key,
                                 const CallContext& context,
                                 Callback<PortalOutcome> done) = 0;
  // Registers the dossier `update.dossier_code` with the data in
  // `update.registration()` (MaTTHC and status from `update`), as new when
  // the portal does not have it yet and as an update of its record when it
  // does (the adapter looks it up first). REQUIRES:
  // update.has_registration().
  virtual void RegisterDossier(const lienthong::v1::DossierStatusUpdate& update,
                               const std::string& idempotency_key,
                               const CallContext& context,
                               Callback<PortalOutcome> done) = 0;
  // Shows one step of a registered dossier's progress. `may_have_arrived`:
  // an earlier attempt's outcome is unknown, so the adapter first looks
  // whether the portal shows the step already, and answers kApplied with
  // found_at_portal without sending it again if so.
  virtual void PushDossierStatus(
      const lienthong::v1::DossierStatusUpdate& update,
      const std::string& idempotency_key, bool may_have_arrived,
      const CallContext& context, Callback<PortalOutcome> done) = 0;

  // The national procedure database, read-only: every procedure's code and
  // name (LayDanhSachTTHC), and one procedure in full (LayThuTuc; NOT_FOUND
  // when the portal has none by that code). Both fail with UNAVAILABLE when
  // the portal refuses the read or answers something unreadable. An adapter
  // that cannot read it keeps these defaults: UNIMPLEMENTED.
  virtual void ListNationalProcedures(
      const CallContext& context,
      Callback<std::vector<lienthong::v1::NationalProcedure>> done) {
    std::move(done)(absl::UnimplementedError(
        "this portal adapter cannot read the national catalogue"));
  }
  virtual void GetNationalProcedure(
      const std::string& code, const CallContext& context,
      Callback<lienthong::v1::NationalProcedure> done) {
    std::move(done)(absl::UnimplementedError(
        "this portal adapter cannot read the national catalogue"));
  }
};

// ---- Interconnected procedures: one step at one agency ------------------

// One step of a bundle (birth, death) at an agency: civil status,
// residence, social insurance, labour and social affairs.
struct StepRequest {
  // One of the adapter's operations() names, e.g. "register_birth".
  std::string operation;
  // The operation's inputs by name, as the bundle's config maps them from
  // the bundle's data and earlier steps' outputs. Personal data: never
  // logged.
  std::map<std::string, std::string> inputs;
  // Sent as X-Idempotency-Key: the agency applies a key once and answers a
  // repeat as it answered the first time, so the step may be sent again
  // with the same key after any failure or crash.
  std::string idempotency_key;
  // MaHoSo of the dossier the bundle serves.
  std::string dossier_code;
};

// What an agency made of a step.
struct StepOutcome {
  enum class Kind {
    kDone,     // applied; `outputs` hold what the operation lists
    kRefused,  // refused for good as sent; `reason` says why
  };
  Kind kind = Kind::kDone;
  std::map<std::string, std::string> outputs;
  // kRefused: the agency's reason, for the officer who resolves the step.
  // May echo the data sent: shown to authorised callers, never logged.
  std::string reason;
};

// One operation an AgencyStepAdapter performs: what a bundle's config may
// map onto it and take from it.
struct StepOperation {
  std::string name;
  std::vector<std::string> required_inputs;
  std::vector<std::string> optional_inputs;
  std::vector<std::string> outputs;
};

// An agency's side of bundle steps. Each call sends one step under its
// idempotency key.
class AgencyStepAdapter {
 public:
  virtual ~AgencyStepAdapter() = default;
  // The operations this adapter performs; fixed for its life. Thread-safe.
  virtual const std::vector<StepOperation>& operations() const = 0;
  // Sends `request`. Calls `done` with the agency's verdict (kDone with
  // every output the operation lists, or kRefused with its reason); or with
  // UNAVAILABLE / DEADLINE_EXCEEDED marked retriable (adapters::IsRetriable)
  // when the agency is down, overloaded, slow or answered something
  // unreadable, so the step may or may not have been applied and should be
  // sent again under the same key; or, not retriable, INVALID_ARGUMENT
  // naming the input when the request cannot be put in the agency's format
  // (unknown operation, a required input missing or malformed: the data
  // must be corrected). An answer saying the step was applied but with an
  // output missing or unusable (not text of at most 64 bytes without
  // control characters, an ID that is not the person's, an amount that is
  // not whole dong) is kRefused, its reason saying the agency may have
  // applied it: sending the same key again would get the same answer.
  // Thread-safe; never blocks.
  virtual void Execute(const StepRequest& request, const CallContext& context,
                       Callback<StepOutcome> done) = 0;
};

// One configured adapter instance. It offers the capabilities it implements
// and returns nullptr for the others.
class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual IdentityAdapter* identity() { return nullptr; }
  virtual CitizenSignInAdapter* sign_in() { return nullptr; }
  virtual PopulationAdapter* population() { return nullptr; }
  virtual PortalAdapter* portal() { return nullptr; }
  virtual AgencyStepAdapter* agency_step() { return nullptr; }
  virtual RecordAdapter* records() { return nullptr; }
};

// What the gateway hands an adapter when it creates it. No globals: tests
// hand in their own.
struct AdapterContext {
  // The instance's name in the config, for logs and metrics.
  std::string instance_name;
  // Shared event-driven HTTPS client. Outlives every adapter.
  HttpClient* http = nullptr;
  // Counts OAuth2 token fetches, for adapters that use tokens; may be null.
  metrics::Counter* token_refreshes = nullptr;
};

// Creates adapters of one type from their typed config.
class AdapterFactory {
 public:
  virtual ~AdapterFactory() = default;
  // The type name used in the config, e.g. "c06-population-soap".
  virtual absl::string_view name() const = 0;
  // An empty instance of this adapter's config message.
  virtual std::unique_ptr<google::protobuf::Message> CreateEmptyConfig()
      const = 0;
  // Creates an instance. Fails with INVALID_ARGUMENT naming the bad config
  // field. REQUIRES: `config` has the type CreateEmptyConfig() returns.
  virtual absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Message& config,
      const AdapterContext& context) const = 0;
};

// Base for factories with a typed config: downcasts once, so adapters see
// only their own config message (Envoy's FactoryBase<ConfigProto>).
template <typename ConfigProto>
class FactoryBase : public AdapterFactory {
 public:
  std::unique_ptr<google::protobuf::Message> CreateEmptyConfig()
      const override {
    return std::make_unique<ConfigProto>();
  }
  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const google::protobuf::Message& config,
      const AdapterContext& context) const final {
    const auto* typed = dynamic_cast<const ConfigProto*>(&config);
    if (typed == nullptr) {
      return absl::InternalError("adapter config has the wrong message type");
    }
    return CreateTyped(*typed, context);
  }

 protected:
  virtual absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const ConfigProto& config, const AdapterContext& context) const = 0;
};

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_ADAPTER_H_
