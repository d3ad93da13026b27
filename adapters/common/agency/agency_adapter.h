// What the four agency adapters of interconnected procedures share (civil
// status, residence, social insurance, labour and social affairs): each is
// a table of operations over the same assumed exchange (docs/
// wire-formats.md, "Agencies of interconnected procedures"): a JSON object
// POSTed over HTTPS with X-Api-Key and X-Idempotency-Key, answered as
// agency_answer.h reads it. An adapter folder supplies its operations
// (path, request body from the inputs, outputs from the answer) and its
// config message; AgencyFactory (or MakeAgencyAdapter) does the rest.
#ifndef LIENTHONG_ADAPTERS_COMMON_AGENCY_AGENCY_ADAPTER_H_
#define LIENTHONG_ADAPTERS_COMMON_AGENCY_AGENCY_ADAPTER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"
#include "google/protobuf/struct.pb.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::adapters::agency {

// A step's inputs with typed, checked reads. Each read fails with
// INVALID_ARGUMENT naming the input, never quoting its value (personal
// data). Thread-compatible.
class StepInputs {
 public:
  explicit StepInputs(const std::map<std::string, std::string>& inputs)
      : inputs_(inputs) {}

  // Text of 1..max_bytes bytes of UTF-8 without control characters.
  absl::StatusOr<std::string> Text(const std::string& name,
                                   size_t max_bytes = 400) const;
  // A 12-digit personal identification number (digits and length only; the
  // gateway checked the rest when the bundle started).
  absl::StatusOr<std::string> CitizenId(const std::string& name) const;
  // "yyyy-MM-dd" (a real date), returned as the agencies write dates:
  // "yyyyMMdd".
  absl::StatusOr<std::string> Date(const std::string& name) const;
  // "male" or "female", returned as the agencies' codes "1" / "2".
  absl::StatusOr<std::string> Gender(const std::string& name) const;
  // Exactly `count` ASCII digits (province "33", commune "12103").
  absl::StatusOr<std::string> Digits(const std::string& name,
                                     size_t count) const;
  // Whether `name` is given and not empty.
  bool Has(const std::string& name) const;

 private:
  absl::StatusOr<std::string> Get(const std::string& name) const;
  const std::map<std::string, std::string>& inputs_;
};

// Sets `object[key]` to the string `value`.
void Put(google::protobuf::Struct& object, const std::string& key,
         const std::string& value);
// Returns `object[key]`, a nested object made empty when absent.
google::protobuf::Struct& Child(google::protobuf::Struct& object,
                                const std::string& key);

// One operation of an agency adapter.
struct AgencyOperation {
  StepOperation info;
  // Path under the upstream's base URL, e.g. "/hotich/api/v1/khaisinh".
  std::string path;
  // The JSON body for the inputs (the required ones are known present;
  // MaHoSo is added by the adapter). INVALID_ARGUMENT naming a malformed
  // input.
  std::function<absl::StatusOr<google::protobuf::Struct>(const StepInputs&)>
      build_body;
  // Each output of `info` and the member of the answer's data holding it.
  std::map<std::string, std::string> output_members;
  // A citizen-ID output and the inputs about that person: the birth date
  // (yyyy-MM-dd), whose year the ID's birth-year digits must give, and the
  // gender (male, female), which its gender/century digit must give. A
  // child's new ID that is not the child's (a parent's, a sibling's) is not
  // taken. An input left empty, or absent from the step, is not checked.
  struct IdOwner {
    std::string birth_date;
    std::string gender;
  };
  std::map<std::string, IdOwner> id_owners;
};

// Returns OK when `upstream` and `api_key` can reach an agency:
// base_url starts with https://, api_key is 1..200 visible ASCII
// characters. INVALID_ARGUMENT naming the field (upstream.base_url,
// api_key) otherwise, in the form factories answer.
absl::Status ValidateAgencyEndpoint(
    const lienthong::config::v1::HttpsUpstream& upstream,
    const std::string& api_key);

// Returns an Adapter offering agency_step() over `operations`, which
// sends to `upstream` with `api_key`; `agency` names it in messages.
// Path overrides by operation name replace the operations' paths.
// An answer that applied a step but lacks an output the operation lists, or
// gives one that cannot be used, refuses the step for an officer, saying it
// may have been applied. REQUIRES: ValidateAgencyEndpoint passed; `http`
// outlives the adapter; every path starts with "/".
std::unique_ptr<Adapter> MakeAgencyAdapter(
    std::string agency, lienthong::config::v1::HttpsUpstream upstream,
    std::string api_key, std::vector<AgencyOperation> operations,
    HttpClient* http);

// Returns the path an operation takes: `configured` when the config gives
// one, else `default_path`. Fails with INVALID_ARGUMENT "<field> must start
// with /" when `configured` is given and does not start with "/".
// Thread-safe.
absl::StatusOr<std::string> OperationPath(absl::string_view field,
                                          const std::string& configured,
                                          absl::string_view default_path);

// Returns the adapter over `operations()` that `context` asks for, after
// checking the endpoint: INVALID_ARGUMENT from ValidateAgencyEndpoint, then
// from `operations` (a bad config field), INTERNAL when `context` has no
// HTTP client. `operations` is called only once the endpoint passed.
// Thread-safe.
absl::StatusOr<std::unique_ptr<Adapter>> CreateAgencyAdapter(
    const lienthong::config::v1::HttpsUpstream& upstream,
    const std::string& api_key,
    absl::FunctionRef<absl::StatusOr<std::vector<AgencyOperation>>()>
        operations,
    const AdapterContext& context);

// The factory of an agency adapter, whose config message `ConfigProto` has
// the fields `upstream` (HttpsUpstream) and `api_key`; `operations` builds
// the adapter's operations from the config, failing with INVALID_ARGUMENT
// naming a bad field. Create() fails as CreateAgencyAdapter does.
// Thread-safe.
template <typename ConfigProto>
class AgencyFactory final : public FactoryBase<ConfigProto> {
 public:
  using Operations =
      absl::StatusOr<std::vector<AgencyOperation>> (*)(const ConfigProto&);

  AgencyFactory(std::string name, Operations operations)
      : name_(std::move(name)), operations_(operations) {}

  absl::string_view name() const override { return name_; }

 protected:
  absl::StatusOr<std::unique_ptr<Adapter>> CreateTyped(
      const ConfigProto& config, const AdapterContext& context) const override {
    return CreateAgencyAdapter(
        config.upstream(), config.api_key(),
        [&] { return operations_(config); }, context);
  }

 private:
  const std::string name_;
  const Operations operations_;
};

}  // namespace lienthong::adapters::agency

#endif  // LIENTHONG_ADAPTERS_COMMON_AGENCY_AGENCY_ADAPTER_H_
