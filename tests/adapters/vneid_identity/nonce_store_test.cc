#include "adapters/vneid_identity/nonce_store.h"

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

}  // namespace
}  // namespace lienthong::adapters::vneid
