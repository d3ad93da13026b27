#include "adapters/vneid_identity/nonce_store.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;

const absl::Time kStart = absl::FromUnixSeconds(1752537600);

TEST(NonceStoreTest, ANonceIsAcceptedOnceUntilItsTokenExpires) {
  NonceStore store;
  auto use = [&](const char* nonce, absl::Time forget_after, absl::Time now) {
    return store.Use(nonce, forget_after, now, 10);
  };
  EXPECT_THAT(use("n1", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_THAT(
      use("n1", kStart + absl::Minutes(5), kStart + absl::Minutes(4)),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
  EXPECT_THAT(use("n2", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_EQ(store.size(), 2u);
  // Once the token is expired it could not be accepted anyway: forgotten.
  EXPECT_THAT(use("n1", kStart + absl::Minutes(10), kStart + absl::Minutes(5)),
              IsOk());
  EXPECT_EQ(store.size(), 1u);
}

TEST(NonceStoreTest, AFullStoreRefusesUntilNoncesExpire) {
  NonceStore store;
  auto use = [&](const char* nonce, absl::Time forget_after, absl::Time now) {
    return store.Use(nonce, forget_after, now, 2);
  };
  EXPECT_THAT(use("a", kStart + absl::Minutes(1), kStart), IsOk());
  EXPECT_THAT(use("b", kStart + absl::Minutes(2), kStart), IsOk());
  EXPECT_THAT(use("c", kStart + absl::Minutes(3), kStart),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       ::testing::HasSubstr("too many recent VNeID sign-ins")));
  // "a" expires: room for one more, and "b" is still remembered.
  EXPECT_THAT(use("c", kStart + absl::Minutes(3), kStart + absl::Minutes(1)),
              IsOk());
  EXPECT_THAT(
      use("b", kStart + absl::Minutes(3), kStart + absl::Minutes(1)),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
}

TEST(NonceStoreTest, NoncesAreComparedExactly) {
  NonceStore store;
  for (const char* nonce : {"Nonce", "nonce", "Nonce "}) {
    EXPECT_THAT(store.Use(nonce, kStart + absl::Minutes(5), kStart, 10), IsOk())
        << nonce;
  }
}

// A reload that changes max_remembered_nonces builds an adapter with
// another capacity while the old one still holds the store: the nonces
// used before it stay used, none is forgotten before its token expires,
// and getting the store for an adapter that is then thrown away (a reload
// that failed later) changes nothing for the one still serving.
TEST(NonceStoreTest, TheSharedStoreOutlivesACapacityChange) {
  const std::string issuer = "https://sso.test/realms/citizen";
  std::shared_ptr<NonceStore> before =
      NonceStore::Shared(issuer, "capacity-change");
  for (const char* nonce : {"a", "b", "c"}) {
    EXPECT_THAT(before->Use(nonce, kStart + absl::Minutes(3), kStart, 3),
                IsOk());
  }
  {
    std::shared_ptr<NonceStore> thrown_away =
        NonceStore::Shared(issuer, "capacity-change");
    EXPECT_EQ(thrown_away, before);
  }
  EXPECT_EQ(before->size(), 3u);

  std::shared_ptr<NonceStore> grown =
      NonceStore::Shared(issuer, "capacity-change");
  EXPECT_EQ(grown, before);
  for (const char* nonce : {"a", "b", "c"}) {
    EXPECT_THAT(
        grown->Use(nonce, kStart + absl::Minutes(5), kStart, 10),
        StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"))
        << nonce;
  }
  EXPECT_THAT(grown->Use("d", kStart + absl::Minutes(4), kStart, 10), IsOk());

  // Lowered below what it holds: all four stay used, and new sign-ins wait
  // until enough tokens expire.
  EXPECT_EQ(before->size(), 4u);
  for (const char* nonce : {"a", "b", "c", "d"}) {
    EXPECT_THAT(
        before->Use(nonce, kStart + absl::Minutes(5), kStart, 2),
        StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"))
        << nonce;
  }
  EXPECT_THAT(before->Use("e", kStart + absl::Minutes(5), kStart, 2),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  EXPECT_THAT(
      before->Use("e", kStart + absl::Minutes(5), kStart + absl::Minutes(3), 2),
      IsOk());
  // Another client's sign-ins have a store of their own.
  EXPECT_NE(NonceStore::Shared(issuer, "another-client"), before);
}

}  // namespace
}  // namespace lienthong::adapters::vneid
