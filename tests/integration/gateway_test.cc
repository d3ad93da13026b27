// End-to-end tests over real mutual TLS on loopback: provincial client ->
// gateway -> (optionally a second gateway via grpc-upstream) -> simulated
// national systems.
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/national_sim/citizen_generator.h"

namespace lienthong::testing {
namespace {

using lienthong::v1::Citizen;
using lienthong::v1::IdentityService;
using lienthong::v1::LookupCitizenRequest;
using lienthong::v1::PopulationService;
using lienthong::v1::VerifyIdentityRequest;
using lienthong::v1::VerifyIdentityResponse;
using ::testing::HasSubstr;
using ::testing::Not;

// A found citizen, a not-found one (last three digits 000..049) and their
// synthetic records.
constexpr char kFoundId[] = "033085012345";
constexpr char kNotFoundId[] = "033085012021";

void SetDeadline(grpc::ClientContext& context, absl::Duration d = absl::Seconds(10)) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + d));
}

// `utf8` decomposed (NFD) and lower-cased, as some provincial systems send.
std::string NfdLower(const std::string& utf8) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(error);
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(utf8);
  text.toLower();
  icu::UnicodeString decomposed = nfd->normalize(text, error);
  std::string out;
  decomposed.toUTF8String(out);
  return out;
}

int64_t SimReceived(GatewayEnv& env, sim::System system) {
  return env.sim().Stats().of(system).received;
}

class GatewayTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    EnvOptions options;
    options.through_grpc_upstream = GetParam();
    auto env = GatewayEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
  }

  grpc::Status Lookup(const std::string& client, const LookupCitizenRequest& r,
                      Citizen* out, std::string* reference = nullptr,
                      absl::Duration deadline = absl::Seconds(10)) {
    auto stub = PopulationService::NewStub(env_->Channel(client));
    grpc::ClientContext context;
    SetDeadline(context, deadline);
    grpc::Status status = stub->LookupCitizen(&context, r, out);
    if (reference != nullptr) {
      auto trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find("lienthong-reference");
      if (it != trailers.end()) reference->assign(it->second.data(), it->second.size());
    }
    return status;
  }

  grpc::Status Verify(const std::string& client, const VerifyIdentityRequest& r,
                      VerifyIdentityResponse* out) {
    auto stub = IdentityService::NewStub(env_->Channel(client));
    grpc::ClientContext context;
    SetDeadline(context);
    return stub->VerifyIdentity(&context, r, out);
  }

  static LookupCitizenRequest LookupRequest(const std::string& id) {
    LookupCitizenRequest r;
    r.set_citizen_id(id);
    r.set_purpose("1.001193");
    r.set_dossier_id("000.00.01.H31-251127-00042");
    *r.mutable_officer() = TestOfficer();
    return r;
  }

  static VerifyIdentityRequest VerifyRequest(const std::string& id,
                                             const std::string& name) {
    VerifyIdentityRequest r;
    r.set_citizen_id(id);
    r.set_full_name(name);
    r.set_purpose("1.001193");
    *r.mutable_officer() = TestOfficer();
    return r;
  }

  std::unique_ptr<GatewayEnv> env_;
};

TEST_P(GatewayTest, LookupReturnsTheGrantedFieldsOfTheRecord) {
  auto expected = sim::LookupCitizen(kFoundId);
  ASSERT_TRUE(expected.has_value());
  Citizen citizen;
  std::string reference;
  grpc::Status status =
      Lookup("dossier-system", LookupRequest(kFoundId), &citizen, &reference);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(citizen.citizen_id(), kFoundId);
  // As the register shows it (the whole name in Ten, upper case, for half of
  // the records).
  EXPECT_EQ(citizen.name().full(), expected->RecordedName());
  EXPECT_EQ(sim::FoldName(citizen.name().given()),
            sim::FoldName(expected->given_name));
  EXPECT_EQ(citizen.birth_date().year(), 1985);
  EXPECT_EQ(citizen.gender(), lienthong::v1::GENDER_MALE);
  EXPECT_EQ(citizen.ethnicity_code(), expected->ethnicity);
  EXPECT_FALSE(citizen.ethnicity_name().empty());
  EXPECT_FALSE(citizen.permanent_address().province_code().empty());
  EXPECT_EQ(citizen.birth_registration_place().province_code(),
            expected->birth_registration.province);
  EXPECT_FALSE(citizen.father().name().full().empty());
  EXPECT_EQ(citizen.father().old_id_number(), expected->father->old_id);
  EXPECT_EQ(citizen.household_head().citizen_id(), expected->head.id);
  EXPECT_EQ(
      citizen.household_relation() == lienthong::v1::HOUSEHOLD_RELATION_HEAD,
      expected->household_head);
  EXPECT_TRUE(citizen.has_data_as_of());
  // Granted for this purpose: yes; not granted: never sent.
  EXPECT_FALSE(citizen.has_spouse());
  EXPECT_FALSE(citizen.has_current_address());
  EXPECT_TRUE(citizen.religion().empty());
  EXPECT_TRUE(citizen.religion_code().empty());
  // The request id the gateway sent, for support cases.
  EXPECT_THAT(reference, ::testing::StartsWith("LT-"));
}

// Permanent addresses since 1 July 2025 are in the 34-province scheme, for
// every province: the record of someone born in Thái Bình (34) lives in
// Hưng Yên (33) now, or in the old scheme with a district.
TEST_P(GatewayTest, AddressesArriveInTheSchemeOfTheirDate) {
  int current = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string id = absl::StrCat("034085", 100100 + i * 37);
    auto expected = sim::LookupCitizen(id);
    if (!expected) continue;
    Citizen citizen;
    grpc::Status status = Lookup("dossier-system", LookupRequest(id), &citizen);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const auto& address = citizen.permanent_address();
    EXPECT_EQ(address.province_code(), expected->permanent.province);
    EXPECT_EQ(address.legacy_district_code().empty(), !expected->legacy);
    if (!expected->legacy) {
      ++current;
      EXPECT_NE(address.province_code(), "34");
    }
  }
  EXPECT_GT(current, 10);
}

TEST_P(GatewayTest, NoOfficerOrABadOneNeverReachesTheNationalSystem) {
  struct Case {
    const char* what;
    void (*spoil)(lienthong::v1::Officer*);
    bool clear;
  };
  const Case kCases[] = {
      {"no officer", nullptr, true},
      {"old ID card",
       [](lienthong::v1::Officer* o) { o->set_citizen_id("145123456"); },
       false},
      {"bad province",
       [](lienthong::v1::Officer* o) { o->set_citizen_id("999085004321"); },
       false},
      {"no unit", [](lienthong::v1::Officer* o) { o->clear_unit_code(); },
       false},
      {"bad account", [](lienthong::v1::Officer* o) { o->set_account("a b"); },
       false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    LookupCitizenRequest lookup = LookupRequest(kFoundId);
    VerifyIdentityRequest verify = VerifyRequest(kFoundId, "Lê Văn Tám");
    if (c.clear) {
      lookup.clear_officer();
      verify.clear_officer();
    } else {
      c.spoil(lookup.mutable_officer());
      c.spoil(verify.mutable_officer());
    }
    Citizen citizen;
    grpc::Status status = Lookup("dossier-system", lookup, &citizen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("officer"));
    EXPECT_THAT(status.error_message(), Not(HasSubstr("999085004321")));
    VerifyIdentityResponse response;
    status = Verify("dossier-system", verify, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("officer"));
  }
  const sim::SystemStats stats =
      env_->sim().Stats().of(sim::System::kPopulation);
  EXPECT_EQ(stats.received, 0);
  EXPECT_EQ(stats.lookups, 0);
  EXPECT_EQ(stats.identity_checks, 0);
}

TEST_P(GatewayTest, LookupWithAMaskReturnsOnlyThoseFields) {
  LookupCitizenRequest r = LookupRequest(kFoundId);
  r.mutable_fields()->add_paths("birth_date");
  Citizen citizen;
  ASSERT_TRUE(Lookup("dossier-system", r, &citizen).ok());
  EXPECT_EQ(citizen.birth_date().year(), 1985);
  EXPECT_FALSE(citizen.has_name());
  EXPECT_TRUE(citizen.citizen_id().empty());
}

TEST_P(GatewayTest, FieldsBeyondTheGrantAreRefusedByName) {
  LookupCitizenRequest r = LookupRequest(kFoundId);
  r.mutable_fields()->add_paths("name");
  r.mutable_fields()->add_paths("spouse");
  int64_t before = SimReceived(*env_, sim::System::kPopulation);
  Citizen citizen;
  grpc::Status status = Lookup("dossier-system", r, &citizen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("spouse"));
  EXPECT_EQ(SimReceived(*env_, sim::System::kPopulation), before);
}

TEST_P(GatewayTest, LookupOfAnUnknownCitizenIsNotFound) {
  Citizen citizen;
  grpc::Status status =
      Lookup("dossier-system", LookupRequest(kNotFoundId), &citizen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), Not(HasSubstr(kNotFoundId)));
}

TEST_P(GatewayTest, VerifyMatchesNfcAndNfdNamesThroughThePopulationDatabase) {
  auto expected = sim::LookupCitizen(kFoundId);
  ASSERT_TRUE(expected.has_value());
  VerifyIdentityRequest r = VerifyRequest(kFoundId, expected->FullName());
  r.mutable_birth_date()->set_year(expected->birth_year);
  if (!expected->birth_year_only) {
    r.mutable_birth_date()->set_month(expected->birth_month);
    r.mutable_birth_date()->set_day(expected->birth_day);
  }
  VerifyIdentityResponse response;
  grpc::Status status = Verify("dossier-system", r, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result(), VerifyIdentityResponse::MATCH);
  EXPECT_THAT(response.reference(), ::testing::StartsWith("LT-"));

  // The same name decomposed (NFD) and in lower case: still a match.
  VerifyIdentityRequest nfd = VerifyRequest(kFoundId, NfdLower(expected->FullName()));
  ASSERT_NE(nfd.full_name(), expected->FullName());
  VerifyIdentityResponse nfd_response;
  ASSERT_TRUE(Verify("dossier-system", nfd, &nfd_response).ok());
  EXPECT_EQ(nfd_response.result(), VerifyIdentityResponse::MATCH);
  // Both went to the population database's identity check, none to VNeID.
  EXPECT_EQ(env_->sim().Stats().of(sim::System::kPopulation).identity_checks,
            2);
  EXPECT_EQ(SimReceived(*env_, sim::System::kVneid), 0);
}

TEST_P(GatewayTest, VerifyAnswersNoMatchWithoutSayingWhy) {
  auto expected = sim::LookupCitizen(kFoundId);
  ASSERT_TRUE(expected.has_value());
  VerifyIdentityResponse wrong_name;
  ASSERT_TRUE(Verify("dossier-system",
                     VerifyRequest(kFoundId, "Trịnh Công Sơn Khác"),
                     &wrong_name)
                  .ok());
  VerifyIdentityResponse unknown;
  ASSERT_TRUE(Verify("dossier-system", VerifyRequest(kNotFoundId, "Lê Văn Tám"),
                     &unknown)
                  .ok());
  // A wrong name and an unknown ID look the same to the caller.
  EXPECT_EQ(wrong_name.result(), VerifyIdentityResponse::NO_MATCH);
  EXPECT_EQ(unknown.result(), VerifyIdentityResponse::NO_MATCH);
  wrong_name.clear_reference();
  unknown.clear_reference();
  EXPECT_EQ(wrong_name.SerializeAsString(), unknown.SerializeAsString());

  // The birth date is checked for form but not sent: a wrong day of the
  // right year does not change the answer.
  VerifyIdentityRequest r = VerifyRequest(kFoundId, expected->FullName());
  r.mutable_birth_date()->set_year(1985);
  r.mutable_birth_date()->set_month(expected->birth_month == 1 ? 2 : 1);
  r.mutable_birth_date()->set_day(1);
  VerifyIdentityResponse response;
  ASSERT_TRUE(Verify("dossier-system", r, &response).ok());
  EXPECT_EQ(response.result(), VerifyIdentityResponse::MATCH);
}

TEST_P(GatewayTest, InvalidIdsNeverReachTheNationalSystems) {
  const char* kBadIds[] = {"",           "03308501234",   "0330850123456",
                           "03308501234X", "999085012345", "033485012345",
                           "033299012345", "12345678"};
  int64_t population = SimReceived(*env_, sim::System::kPopulation);
  int64_t vneid = SimReceived(*env_, sim::System::kVneid);
  for (const char* id : kBadIds) {
    Citizen citizen;
    grpc::Status status = Lookup("dossier-system", LookupRequest(id), &citizen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id;
    if (*id != '\0') {
      EXPECT_THAT(status.error_message(), Not(HasSubstr(id)));
    }
    VerifyIdentityResponse response;
    status = Verify("dossier-system", VerifyRequest(id, "Lê Văn Tám"), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id;
  }
  // A birth year that disagrees with the ID's digits.
  VerifyIdentityRequest r = VerifyRequest(kFoundId, "Lê Văn Tám");
  r.mutable_birth_date()->set_year(1986);
  VerifyIdentityResponse response;
  EXPECT_EQ(Verify("dossier-system", r, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SimReceived(*env_, sim::System::kPopulation), population);
  EXPECT_EQ(SimReceived(*env_, sim::System::kVneid), vneid);
  EXPECT_EQ(env_->sim().Stats().of(sim::System::kPopulation).identity_checks,
            0);
}

TEST_P(GatewayTest, CallsWithoutAValidClientCertificateMakeNoUpstreamCall) {
  for (const char* client : {"", "rogue-client"}) {
    Citizen citizen;
    grpc::Status status =
        Lookup(client, LookupRequest(kFoundId), &citizen, nullptr,
               absl::Seconds(3));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "client '" << client << "': " << status.error_message();
    VerifyIdentityResponse response;
    EXPECT_FALSE(Verify(client, VerifyRequest(kFoundId, "Lê Văn Tám"), &response).ok());
  }
  EXPECT_EQ(SimReceived(*env_, sim::System::kPopulation), 0);
  EXPECT_EQ(SimReceived(*env_, sim::System::kVneid), 0);
}

TEST_P(GatewayTest, ClientsWithoutRightsAreDenied) {
  Citizen citizen;
  grpc::Status status = Lookup("no-rights", LookupRequest(kFoundId), &citizen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = Lookup("citizen-portal", LookupRequest(kFoundId), &citizen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  VerifyIdentityResponse response;
  EXPECT_EQ(Verify("no-rights", VerifyRequest(kFoundId, "Lê Văn Tám"), &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SimReceived(*env_, sim::System::kPopulation), 0);
  EXPECT_EQ(SimReceived(*env_, sim::System::kVneid), 0);
}

TEST_P(GatewayTest, FailingOrMalformedUpstreamGivesACleanError) {
  struct Case {
    const char* what;
    sim::Knobs knobs;
  };
  sim::Knobs unavailable;
  unavailable.error_rate = 1;
  unavailable.error_kind = sim::ErrorKind::kHttp503;
  sim::Knobs fault;
  fault.error_rate = 1;
  fault.error_kind = sim::ErrorKind::kHttp500;
  sim::Knobs malformed;
  malformed.malformed_rate = 1;
  sim::Knobs dropped;
  dropped.drop_rate = 1;
  const Case kCases[] = {{"503", unavailable},
                         {"SOAP fault", fault},
                         {"malformed", malformed},
                         {"dropped", dropped}};
  auto expected = sim::LookupCitizen(kFoundId);
  for (const Case& c : kCases) {
    ASSERT_TRUE(env_->sim().SetKnobs(sim::System::kPopulation, c.knobs).ok());
    ASSERT_TRUE(env_->sim().SetKnobs(sim::System::kVneid, c.knobs).ok());
    Citizen citizen;
    grpc::Status status =
        Lookup("dossier-system", LookupRequest(kFoundId), &citizen);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << c.what;
    EXPECT_THAT(status.error_message(), Not(HasSubstr(kFoundId))) << c.what;
    EXPECT_THAT(status.error_message(), Not(HasSubstr(expected->given_name)));
    EXPECT_THAT(status.error_message(), Not(HasSubstr("<"))) << c.what;
    VerifyIdentityResponse response;
    status = Verify("dossier-system",
                    VerifyRequest(kFoundId, expected->FullName()), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << c.what;
    EXPECT_THAT(status.error_message(), Not(HasSubstr("{"))) << c.what;
  }
}

TEST_P(GatewayTest, TheCallersDeadlineCapsTheUpstreamCall) {
  sim::Knobs slow;
  slow.latency_ms = 3000;
  ASSERT_TRUE(env_->sim().SetKnobs(sim::System::kPopulation, slow).ok());
  Citizen citizen;
  absl::Time start = absl::Now();
  grpc::Status status = Lookup("dossier-system", LookupRequest(kFoundId),
                               &citizen, nullptr, absl::Milliseconds(400));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_P(GatewayTest, OversizedRequestsAreRefusedBeforeAnyWork) {
  LookupCitizenRequest r = LookupRequest(kFoundId);
  r.set_dossier_id(std::string(2 << 20, 'x'));  // over the 1 MiB default
  Citizen citizen;
  grpc::Status status = Lookup("dossier-system", r, &citizen);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(SimReceived(*env_, sim::System::kPopulation), 0);
}

INSTANTIATE_TEST_SUITE_P(Adapters, GatewayTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ThroughGrpcUpstream"
                                             : "DirectToNationalSystems";
                         });

// Standard health checking is on (grpc.health.v1.Health/Check with an empty
// service name answers SERVING), for authenticated callers.
TEST(HealthTest, HealthCheckAnswersServing) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  grpc::GenericStub stub((*env)->Channel("dossier-system"));
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::ByteBuffer request;  // HealthCheckRequest{} encodes to no bytes
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = s;
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
}

// Server reflection is on, so grpcurl-like tools can list every service.
// The request and reply are encoded by hand: Debian ships no reflection
// .proto. ServerReflectionRequest{list_services: ""} is field 7, empty.
TEST(ReflectionTest, ListsTheLienthongServices) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  grpc::GenericStub stub((*env)->Channel("dossier-system"));
  grpc::ClientContext context;
  SetDeadline(context);
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  void* tag;
  bool ok;
  auto step = [&](void* expected) {
    return cq.Next(&tag, &ok) && tag == expected && ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step(reinterpret_cast<void*>(1)));
  grpc::Slice request_bytes(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&request_bytes, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(step(reinterpret_cast<void*>(2)));
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(step(reinterpret_cast<void*>(3)));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  EXPECT_THAT(bytes, HasSubstr("lienthong.v1.PopulationService"));
  EXPECT_THAT(bytes, HasSubstr("lienthong.v1.IdentityService"));
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(step(reinterpret_cast<void*>(4)));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace lienthong::testing
