// OutboxCipher (AES-256-GCM) and the outbox key file.
#include "gateway/sync/outbox_cipher.h"

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/sync/outbox_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey(32, 'k');

OutboxCipher Cipher(const std::string& key = kKey) {
  auto cipher = OutboxCipher::Create(key);
  EXPECT_THAT(cipher, IsOk());
  return *std::move(cipher);
}

TEST(OutboxCipherTest, SealsAndOpens) {
  OutboxCipher cipher = Cipher();
  const std::string secret = "Trần Thị Mai 0912345678";
  auto sealed = cipher.Seal(secret, "place-1");
  ASSERT_THAT(sealed, IsOk());
  EXPECT_EQ(sealed->size(), 1 + 12 + secret.size() + 16);
  EXPECT_THAT(*sealed, Not(HasSubstr("0912345678")));
  EXPECT_THAT(cipher.Open(*sealed, "place-1"), IsOkAndHolds(secret));
  // A fresh nonce each time: the same text never seals the same.
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto again = cipher.Seal(secret, "place-1");
    ASSERT_THAT(again, IsOk());
    EXPECT_TRUE(seen.insert(*again).second);
  }
  EXPECT_THAT(cipher.Open(*cipher.Seal("", "p"), "p"), IsOkAndHolds(""));
}

TEST(OutboxCipherTest, AnyChangeFailsTheCheck) {
  OutboxCipher cipher = Cipher();
  auto sealed = cipher.Seal("Trần Thị Mai", "place-1");
  ASSERT_THAT(sealed, IsOk());
  // Every byte flipped in turn: version, nonce, ciphertext, tag.
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string tampered = *sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_THAT(cipher.Open(tampered, "place-1"),
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr("integrity check")))
        << "byte " << i;
  }
  EXPECT_THAT(cipher.Open(sealed->substr(0, sealed->size() - 1), "place-1"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(cipher.Open("", "place-1"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  // Moved to another place, or opened with another key.
  EXPECT_THAT(cipher.Open(*sealed, "place-2"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  EXPECT_THAT(Cipher(std::string(32, 'x')).Open(*sealed, "place-1"),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
}

TEST(OutboxCipherTest, KeyMustHave32Bytes) {
  for (size_t size : {0, 16, 31, 33, 64}) {
    auto cipher = OutboxCipher::Create(std::string(size, 'k'));
    EXPECT_THAT(cipher, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(absl::StrCat("has ", size))));
  }
}

TEST(OutboxCipherTest, AKeyCheckOpensOnlyUnderItsKeyAndPlace) {
  OutboxCipher cipher = Cipher();
  auto check = cipher.SealKeyCheck("store-1|key-check");
  ASSERT_THAT(check, IsOk());
  EXPECT_TRUE(cipher.KeyCheckOpens(*check, "store-1|key-check"));
  EXPECT_FALSE(cipher.KeyCheckOpens(*check, "store-2|key-check"));
  EXPECT_FALSE(
      Cipher(std::string(32, 'x')).KeyCheckOpens(*check, "store-1|key-check"));
  EXPECT_FALSE(cipher.KeyCheckOpens("", "store-1|key-check"));
}

TEST(OutboxCipherTest, DigestIsKeyedAndStable) {
  OutboxCipher cipher = Cipher();
  EXPECT_EQ(cipher.Digest("a"), cipher.Digest("a"));
  EXPECT_NE(cipher.Digest("a"), cipher.Digest("b"));
  EXPECT_NE(cipher.Digest("a"), Cipher(std::string(32, 'x')).Digest("a"));
  EXPECT_EQ(cipher.Digest("a").size(), 64u);
}

TEST(OutboxKeyFileTest, ReadsExactly32Bytes) {
  const ::lienthong::testing::ScratchDir dir("outbox-key");
  const std::string path = dir.File("key");
  EXPECT_THAT(ReadOutboxKeyFile(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  for (const std::string& content :
       {std::string(31, 'a'), std::string(33, 'a'), std::string(44, 'a')}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    EXPECT_THAT(ReadOutboxKeyFile(path),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat("holds ", content.size()))));
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << kKey;
  EXPECT_THAT(ReadOutboxKeyFile(path), IsOkAndHolds(kKey));
}

TEST(OutboxKeyFileTest, DevelopmentKeyIsMadeOnceWithMode0600) {
  const ::lienthong::testing::ScratchDir dir("outbox-key");
  const std::string path = dir.File("dev-key");
  bool made = false;
  auto first = ReadOrMakeOutboxKeyFile(path, &made);
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(made);
  EXPECT_EQ(first->size(), 32u);
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  auto second = ReadOrMakeOutboxKeyFile(path, &made);
  EXPECT_THAT(second, IsOkAndHolds(*first));
  EXPECT_FALSE(made);
  // A key file of the wrong size is refused, not replaced.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "short";
  EXPECT_THAT(ReadOrMakeOutboxKeyFile(path, &made),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("holds 5")));
}

}  // namespace
}  // namespace lienthong::sync
