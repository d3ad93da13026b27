// Must show: recovering a citizen ID from an audit record by trying every
// candidate no longer works without the HMAC keys.
//
// A record of a LookupCitizen call carries the masked ID ("033*******45"),
// the purpose, the dossier, the citizen's keyed hash and the request's
// digest. With a plain SHA-256 digest (the previous format), the 7 hidden
// digits fell to a search: every 12-digit ID consistent with the mask and
// valid (gender/century digit, birth year not in the future), put in the
// request the record describes, hashed, compared. The test runs that search
// against the record the gateway makes now: without the keys no candidate
// reproduces either keyed value; with them, exactly the real ID does.
#include <cstdint>
#include <iostream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gateway/audit/record.h"
#include "gateway/validation/citizen_id.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::audit {
namespace {

constexpr char kRealId[] = "033085012345";

lienthong::v1::LookupCitizenRequest Request(const std::string& id) {
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(id);
  request.set_purpose("1.001193");
  request.set_dossier_id("000.00.01.H31-251127-00042");
  request.mutable_fields()->add_paths("name");
  request.mutable_fields()->add_paths("permanent_address");
  return request;
}

TEST(KeyedDigestTest, TheMaskedIdCannotBeRecoveredWithoutTheKeys) {
  // The gateway's keys (the attacker does not have them).
  auto citizen_key = CitizenKey::FromBytes(std::string(32, 'k'));
  auto digest_key = DigestKey::FromBytes(std::string(32, 'd'));
  ASSERT_TRUE(citizen_key.ok() && digest_key.ok());
  // What the record holds (CitizenKey::Fill, the server's CallRecord).
  AuditRecord record;
  citizen_key->Fill(kRealId, &record);
  record.set_purpose("1.001193");
  record.set_dossier_id("000.00.01.H31-251127-00042");
  record.set_request_sha256(digest_key->Digest(Request(kRealId)));
  ASSERT_EQ(record.citizen_masked(), "033*******45");

  // The attacker's guesses of the keys, and the plain digest of before.
  auto guessed_citizen = CitizenKey::FromBytes(std::string(32, 'g'));
  auto guessed_digest = DigestKey::FromBytes(std::string(32, 'g'));
  ASSERT_TRUE(guessed_citizen.ok() && guessed_digest.ok());
  const std::string plain_digest = Sha256Hex(Request(kRealId).SerializeAsString());

  // The request's bytes differ between candidates only in the ID's 12.
  const std::string templ = Request(kRealId).SerializeAsString();
  const size_t id_at = templ.find(kRealId);
  ASSERT_NE(id_at, std::string::npos);
  std::string bytes = templ;

  const absl::Time now = absl::Now();
  uint64_t candidates = 0, plain = 0, unkeyed = 0, keyed = 0, hmac_found = 0;
  std::string found;
  const absl::Time start = absl::Now();
  for (int hidden = 0; hidden < 10000000; ++hidden) {
    const std::string id = absl::StrFormat("033%07d45", hidden);
    // Only valid IDs: the gender/century digit and the birth year.
    if (id[3] > '3' ||
        !validation::ValidateCitizenId(id, nullptr, now).ok()) {
      continue;
    }
    ++candidates;
    bytes.replace(id_at, 12, id);
    // The old format's digest: a plain SHA-256 (what the search broke).
    plain += Sha256Hex(bytes) == plain_digest;
    // Without the keys: plain SHA-256 or a guessed key against the record.
    unkeyed += Sha256Hex(bytes) == record.request_sha256() ||
               guessed_digest->Digest(bytes) == record.request_sha256() ||
               guessed_citizen->Hmac(id) == record.citizen_hmac();
    // With the keys.
    if (digest_key->Digest(bytes) == record.request_sha256()) {
      ++keyed;
      found = id;
    }
    hmac_found += citizen_key->Hmac(id) == record.citizen_hmac();
  }
  std::cout << "  " << candidates << " candidates for 033*******45 tried in "
            << absl::Now() - start << "\n";
  EXPECT_GT(candidates, 2000000u);  // 4 gender/century digits x years x 10^4
  EXPECT_EQ(plain, 1u);    // the attack against the old format worked ...
  EXPECT_EQ(unkeyed, 0u);  // ... and finds nothing without the keys
  EXPECT_EQ(keyed, 1u);    // with them, only the real ID matches
  EXPECT_EQ(found, kRealId);
  EXPECT_EQ(hmac_found, 1u);
}

TEST(KeyedDigestTest, DigestsAreKeyedAndDistinctFromTheCitizenHash) {
  auto a = DigestKey::FromBytes(std::string(32, 'a'));
  auto b = DigestKey::FromBytes(std::string(32, 'b'));
  auto citizen = CitizenKey::FromBytes(std::string(32, 'a'));
  ASSERT_TRUE(a.ok() && b.ok() && citizen.ok());
  const auto request = Request(kRealId);
  EXPECT_EQ(a->Digest(request).size(), 64u);
  EXPECT_NE(a->Digest(request), b->Digest(request));
  EXPECT_NE(a->Digest(request), Sha256Hex(request.SerializeAsString()));
  // A digest key derived from the citizen key is another key.
  EXPECT_NE(DigestKey::DerivedFrom(*citizen).Digest(kRealId),
            citizen->Hmac(kRealId));
  EXPECT_FALSE(DigestKey::FromBytes("short").ok());
}

}  // namespace
}  // namespace lienthong::audit
