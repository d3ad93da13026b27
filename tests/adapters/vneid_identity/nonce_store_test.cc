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
  NonceStore store(10);
  EXPECT_THAT(store.Use("n1", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_THAT(
      store.Use("n1", kStart + absl::Minutes(5), kStart + absl::Minutes(4)),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
  EXPECT_THAT(store.Use("n2", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_EQ(store.size(), 2u);
  // Once the token is expired it could not be accepted anyway: forgotten.
  EXPECT_THAT(
      store.Use("n1", kStart + absl::Minutes(10), kStart + absl::Minutes(5)),
      IsOk());
  EXPECT_EQ(store.size(), 1u);
}

TEST(NonceStoreTest, AFullStoreRefusesUntilNoncesExpire) {
  NonceStore store(2);
  EXPECT_THAT(store.Use("a", kStart + absl::Minutes(1), kStart), IsOk());
  EXPECT_THAT(store.Use("b", kStart + absl::Minutes(2), kStart), IsOk());
  EXPECT_THAT(store.Use("c", kStart + absl::Minutes(3), kStart),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       ::testing::HasSubstr("too many recent VNeID sign-ins")));
  // "a" expires: room for one more, and "b" is still remembered.
  EXPECT_THAT(
      store.Use("c", kStart + absl::Minutes(3), kStart + absl::Minutes(1)),
      IsOk());
  EXPECT_THAT(
      store.Use("b", kStart + absl::Minutes(3), kStart + absl::Minutes(1)),
      StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"));
}

TEST(NonceStoreTest, NoncesAreComparedExactly) {
  NonceStore store(10);
  EXPECT_THAT(store.Use("Nonce", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_THAT(store.Use("nonce", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_THAT(store.Use("Nonce ", kStart + absl::Minutes(5), kStart), IsOk());
}

TEST(NonceStoreTest, ShrinkingForgetsTheNoncesThatExpireSoonest) {
  NonceStore store(4);
  EXPECT_THAT(store.Use("a", kStart + absl::Minutes(1), kStart), IsOk());
  EXPECT_THAT(store.Use("b", kStart + absl::Minutes(2), kStart), IsOk());
  EXPECT_THAT(store.Use("c", kStart + absl::Minutes(3), kStart), IsOk());
  store.Resize(2);
  EXPECT_EQ(store.size(), 2u);
  for (const char* kept : {"b", "c"}) {
    EXPECT_THAT(
        store.Use(kept, kStart + absl::Minutes(5), kStart),
        StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"))
        << kept;
  }
  // Full at the new capacity; room again once it grows, and "a" is gone.
  EXPECT_THAT(store.Use("d", kStart + absl::Minutes(5), kStart),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  store.Resize(3);
  EXPECT_THAT(store.Use("a", kStart + absl::Minutes(5), kStart), IsOk());
  EXPECT_EQ(store.size(), 3u);
}

// A reload that changes max_remembered_nonces builds an adapter with
// another capacity while the old one still holds the store: the nonces
// used before it must stay used.
TEST(NonceStoreTest, TheSharedStoreOutlivesACapacityChange) {
  const std::string issuer = "https://sso.test/realms/citizen";
  std::shared_ptr<NonceStore> before =
      NonceStore::Shared(issuer, "capacity-change", 3);
  EXPECT_THAT(before->Use("a", kStart + absl::Minutes(1), kStart), IsOk());
  EXPECT_THAT(before->Use("b", kStart + absl::Minutes(2), kStart), IsOk());
  EXPECT_THAT(before->Use("c", kStart + absl::Minutes(3), kStart), IsOk());

  std::shared_ptr<NonceStore> grown =
      NonceStore::Shared(issuer, "capacity-change", 10);
  EXPECT_EQ(grown, before);
  for (const char* nonce : {"a", "b", "c"}) {
    EXPECT_THAT(
        grown->Use(nonce, kStart + absl::Minutes(5), kStart),
        StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"))
        << nonce;
  }
  EXPECT_THAT(grown->Use("d", kStart + absl::Minutes(4), kStart), IsOk());

  // Shrunk below what it holds: the most recent stay.
  std::shared_ptr<NonceStore> shrunk =
      NonceStore::Shared(issuer, "capacity-change", 2);
  EXPECT_EQ(shrunk, before);
  EXPECT_EQ(shrunk->size(), 2u);
  for (const char* nonce : {"c", "d"}) {
    EXPECT_THAT(
        shrunk->Use(nonce, kStart + absl::Minutes(5), kStart),
        StatusIs(absl::StatusCode::kUnauthenticated, "nonce already used"))
        << nonce;
  }
  // Another client's sign-ins have a store of their own.
  EXPECT_NE(NonceStore::Shared(issuer, "another-client", 2), before);
}

}  // namespace
}  // namespace lienthong::adapters::vneid
