#include "gateway/audit/record.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <string>

#include "gateway/audit/signing.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

AuditRecord FixedRecord() {
  AuditRecord r;
  r.set_sequence(42);
  r.mutable_time()->set_seconds(1752544984);  // 2025-07-15 02:03:04 UTC
  r.mutable_time()->set_nanos(123456789);
  r.set_node("gw-1");
  r.set_caller("spiffe://lienthong.local/dossier-system");
  r.set_caller_cert_sha256(std::string(64, 'c'));
  r.set_method("lienthong.v1.PopulationService/LookupCitizen");
  r.set_purpose("1.001193");
  r.set_dossier_id("000.00.01.H31-250715-00123");
  r.set_citizen_hmac(std::string(64, 'd'));
  r.set_citizen_masked("033*******45");
  r.set_national_system("population");
  r.set_attempts(2);
  r.set_outcome("OK");
  r.set_latency_us(12345);
  r.set_request_sha256(std::string(64, 'e'));
  r.set_response_sha256(std::string(64, 'f'));
  r.set_prev_hash(std::string(64, 'a'));
  return r;
}

// Every field of AuditRecord set, the nested AuditBreak too.
AuditRecord FullRecord() {
  AuditRecord r = FixedRecord();
  r.set_kind(AuditRecord::EPOCH_OPENED);
  r.set_count(9);
  r.set_details("epoch=2");
  r.set_records_returned(77);
  r.set_officer_hmac(std::string(64, 'b'));
  r.set_officer_masked("001*******21");
  r.set_officer_unit_code("000.00.31.H31");
  r.set_officer_account_hmac(std::string(64, '9'));
  r.set_record_type("enterprise");
  r.set_record_key_hmac(std::string(64, '7'));
  lienthong::v1::AuditBreak* b = r.mutable_epoch_break();
  b->set_epoch(2);
  b->set_first_bad_sequence(500);
  b->set_first_bad_checkpoint(7);
  b->set_problem(lienthong::v1::VerifyAuditResponse::CHECKPOINT_MISSING);
  b->set_detail("checkpoint #7 is missing");
  b->set_opened_by("Nguyen Van B");
  b->set_reason("ticket SEC-1");
  b->mutable_time()->set_seconds(1752600000);
  b->mutable_time()->set_nanos(5);
  return r;
}

TEST(RecordHashTest, FormatIsPinned) {
  // Changing the canonical encoding breaks every stored chain: it needs a
  // new version tag, never a silent change. The values were computed
  // independently (a few lines of Python) from the layout in record.h.
  EXPECT_THAT(ComputeRecordHash(FixedRecord()),
              IsOkAndHolds("686464823664fdd51cd931efdb9f0750"
                           "b017689facdb6e0c20e63a2f5d5b5a17"));
  EXPECT_EQ(CanonicalEncoding(FixedRecord()).substr(0, 8), "LTAUDIT3");
  EXPECT_THAT(ComputeRecordHash(FullRecord()),
              IsOkAndHolds("426aacde9d4eef370d0dd166223ed337"
                           "05fcc98532fce4d9c339276b45ff116c"));
}

TEST(RecordHashTest, RemovingTheOfficerChangesTheHash) {
  AuditRecord with_officer = FixedRecord();
  with_officer.set_officer_hmac(std::string(64, 'b'));
  with_officer.set_officer_masked("001*******21");
  with_officer.set_officer_unit_code("000.00.31.H31");
  with_officer.set_officer_account_hmac(std::string(64, '9'));
  const std::string with = *ComputeRecordHash(with_officer);
  for (const char* field : {"officer_hmac", "officer_masked",
                            "officer_unit_code", "officer_account_hmac"}) {
    SCOPED_TRACE(field);
    AuditRecord r = with_officer;
    r.GetReflection()->SetString(&r, r.GetDescriptor()->FindFieldByName(field),
                                 "");
    EXPECT_NE(*ComputeRecordHash(r), with);
  }
  EXPECT_NE(*ComputeRecordHash(FixedRecord()), with);
}

// Changes one field of `message` (recursing into messages) and calls
// `check` after each change.
void ChangeEachField(google::protobuf::Message& message,
                     const std::function<void(const std::string&)>& check,
                     const std::string& skip = "", const std::string& path = "") {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    const std::string name = path + field->name();
    if (name == skip) continue;
    std::unique_ptr<google::protobuf::Message> saved(message.New());
    saved->CopyFrom(message);
    switch (field->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING: {
        std::string value = reflection->GetString(message, field);
        value.back() = value.back() == '0' ? '1' : '0';
        reflection->SetString(&message, field, value);
        break;
      }
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        reflection->SetUInt64(&message, field,
                              reflection->GetUInt64(message, field) + 1);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        reflection->SetInt64(&message, field,
                             reflection->GetInt64(message, field) + 1);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        reflection->SetUInt32(&message, field,
                              reflection->GetUInt32(message, field) + 1);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
        reflection->SetInt32(&message, field,
                             reflection->GetInt32(message, field) + 1);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnumValue(&message, field,
                                 reflection->GetEnumValue(message, field) + 1);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE:
        ChangeEachField(*reflection->MutableMessage(&message, field), check,
                        skip, name + ".");
        continue;
      default:
        FAIL() << "unhandled field type of " << name;
    }
    check(name);
    message.CopyFrom(*saved);
  }
}

TEST(RecordHashTest, EveryFieldButTheHashIsCovered) {
  // By reflection, so that a field added to AuditRecord (or AuditBreak)
  // without a line in CanonicalEncoding fails here.
  AuditRecord record = FullRecord();
  const std::string base_hash = *ComputeRecordHash(record);
  int fields = 0;
  ChangeEachField(
      record,
      [&](const std::string& name) {
        SCOPED_TRACE(name);
        ++fields;
        EXPECT_NE(*ComputeRecordHash(record), base_hash);
      },
      "hash");
  EXPECT_GE(fields, 30);
  // Absent fields leave the hash alone: a field added later does not
  // change the hashes of the records that do not set it.
  AuditRecord call = FixedRecord();
  AuditRecord with_defaults = call;
  with_defaults.set_count(0);
  with_defaults.set_details("");
  EXPECT_EQ(*ComputeRecordHash(with_defaults), *ComputeRecordHash(call));
}

TEST(RecordHashTest, FieldBoundariesAreUnambiguous) {
  AuditRecord a = FixedRecord();
  a.set_caller("ab");
  a.set_caller_cert_sha256("c");
  AuditRecord b = FixedRecord();
  b.set_caller("a");
  b.set_caller_cert_sha256("bc");
  EXPECT_NE(CanonicalEncoding(a), CanonicalEncoding(b));
  EXPECT_NE(*ComputeRecordHash(a), *ComputeRecordHash(b));
}

TEST(RecordHashTest, HashIgnoresTheHashFieldAndChecksPrevHash) {
  AuditRecord r = FixedRecord();
  r.set_hash(*ComputeRecordHash(r));
  EXPECT_TRUE(RecordHashMatches(r));
  r.set_hash(std::string(64, '0'));
  EXPECT_FALSE(RecordHashMatches(r));
  r.set_prev_hash("xyz");
  EXPECT_THAT(ComputeRecordHash(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hex")));
  EXPECT_EQ(GenesisHash(), std::string(64, '0'));
}

TEST(CitizenKeyTest, RecordKeysAreHashedUnambiguously) {
  EXPECT_EQ(RecordKeyText({{"a", "b"}, {"c", "d"}}),
            std::string("a=b\0c=d\0", 8));
  EXPECT_NE(RecordKeyText({{"a", "bc"}}), RecordKeyText({{"ab", "c"}}));
  EXPECT_NE(RecordKeyText({{"a", "b"}}), RecordKeyText({{"a", "b"}, {"c", ""}}));
}

TEST(HmacKeyTest, MatchesRfc4231AndOpenSslHmac) {
  // RFC 4231 test case 6: a key longer than SHA-256's block is hashed first.
  auto long_key = HmacKey::FromBytes(std::string(131, '\xaa'), "test key");
  ASSERT_THAT(long_key, IsOk());
  EXPECT_EQ(long_key->Hex("Test Using Larger Than Block-Size Key - Hash Key "
                          "First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Keys up to and past the block size, data of several lengths, against
  // OpenSSL's own HMAC.
  for (size_t key_size : {32, 63, 64, 65, 200}) {
    std::string key;
    for (size_t i = 0; i < key_size; ++i) key.push_back(char(i * 7 + 3));
    auto hmac = HmacKey::FromBytes(key, "test key");
    ASSERT_THAT(hmac, IsOk());
    for (size_t data_size : {0, 1, 12, 55, 56, 64, 1000}) {
      const std::string data(data_size, 'x');
      unsigned char expected[EVP_MAX_MD_SIZE];
      unsigned int expected_size = 0;
      ASSERT_NE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), expected, &expected_size),
                nullptr);
      EXPECT_EQ(hmac->Hex(data),
                ToHex(absl::string_view(reinterpret_cast<char*>(expected),
                                        expected_size)))
          << "key " << key_size << " bytes, data " << data_size << " bytes";
    }
  }
  // A copy shares the keyed state and gives the same MACs.
  HmacKey copy = *long_key;
  EXPECT_EQ(copy.Hex("abc"), long_key->Hex("abc"));
}

TEST(HexTest, RoundTrips) {
  std::string bytes;
  ASSERT_TRUE(FromHex("00ff7fA0", &bytes));
  EXPECT_EQ(bytes, std::string("\x00\xff\x7f\xa0", 4));
  EXPECT_EQ(ToHex(bytes), "00ff7fa0");
  EXPECT_FALSE(FromHex("0", &bytes));
  EXPECT_FALSE(FromHex("zz", &bytes));
}

TEST(ProtoTimeTest, RejectsOutOfRange) {
  google::protobuf::Timestamp t;
  EXPECT_THAT(ToProtoTime(absl::FromUnixSeconds(1752544984), &t), IsOk());
  EXPECT_EQ(t.seconds(), 1752544984);
  EXPECT_THAT(ToProtoTime(absl::FromUnixSeconds(-1), &t),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1970")));
  t.set_nanos(1000000000);
  EXPECT_THAT(ValidateProtoTime(t), Not(IsOk()));
}

TEST(CitizenKeyTest, HashesAndMasksWithoutKeepingTheId) {
  auto key = CitizenKey::FromBytes(std::string(32, 'k'));
  ASSERT_THAT(key, IsOk());
  auto other = CitizenKey::FromBytes(std::string(32, 'j'));
  ASSERT_THAT(other, IsOk());
  const std::string hmac = key->Hmac("033085012345");
  EXPECT_EQ(hmac.size(), 64u);
  EXPECT_EQ(hmac, key->Hmac("033085012345"));
  EXPECT_NE(hmac, key->Hmac("033085012346"));
  EXPECT_NE(hmac, other->Hmac("033085012345"));
  EXPECT_EQ(key->Hmac(""), "");

  AuditRecord r;
  key->Fill("033085012345", &r);
  EXPECT_EQ(r.citizen_hmac(), hmac);
  EXPECT_EQ(r.citizen_masked(), "033*******45");
  EXPECT_EQ(r.DebugString().find("033085012345"), std::string::npos);
  key->Fill("", &r);
  EXPECT_EQ(r.citizen_hmac(), "");
  EXPECT_EQ(r.citizen_masked(), "");
}

TEST(CitizenKeyTest, FillsTheOfficerHashedAndMasked) {
  auto key = CitizenKey::FromBytes(std::string(32, 'k'));
  ASSERT_THAT(key, IsOk());
  AuditRecord r;
  key->FillOfficer("001085004321", "000.00.31.H31", "can.bo@hungyen.gov.vn",
                   &r);
  EXPECT_EQ(r.officer_hmac(), key->Hmac("001085004321"));
  EXPECT_EQ(r.officer_masked(), "001*******21");
  EXPECT_EQ(r.officer_unit_code(), "000.00.31.H31");
  EXPECT_EQ(r.officer_account_hmac(), key->Hmac("can.bo@hungyen.gov.vn"));
  const std::string text = r.DebugString();
  EXPECT_EQ(text.find("001085004321"), std::string::npos);
  EXPECT_EQ(text.find("can.bo"), std::string::npos);
  key->FillOfficer("", "", "", &r);
  EXPECT_EQ(r.officer_hmac(), "");
  EXPECT_EQ(r.officer_masked(), "");
  EXPECT_EQ(r.officer_unit_code(), "");
  EXPECT_EQ(r.officer_account_hmac(), "");
}

TEST(CitizenKeyTest, KeyFiles) {
  ScratchDir dir;
  EXPECT_THAT(CitizenKey::FromBytes("short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("32")));
  ASSERT_THAT(GenerateHmacKeyFile(dir.File("hmac.key")), IsOk());
  EXPECT_THAT(GenerateHmacKeyFile(dir.File("hmac.key")),
              StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  struct stat st;
  ASSERT_EQ(::stat(dir.File("hmac.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = CitizenKey::FromFile(dir.File("hmac.key"));
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->Hmac("033085012345").size(), 64u);
  EXPECT_THAT(CitizenKey::FromFile(dir.File("missing")),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST(SigningTest, CheckpointsVerifyOnlyUnchangedAndWithTheirKey) {
  ScratchDir dir;
  ASSERT_THAT(GenerateSigningKeyFile(dir.File("a.pem")), IsOk());
  ASSERT_THAT(GenerateSigningKeyFile(dir.File("b.pem")), IsOk());
  EXPECT_THAT(GenerateSigningKeyFile(dir.File("a.pem")),
              StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
  struct stat st;
  ASSERT_EQ(::stat(dir.File("a.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto a = SigningKey::FromPemFile(dir.File("a.pem"));
  auto b = SigningKey::FromPemFile(dir.File("b.pem"));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  AuditCheckpoint unsigned_checkpoint;
  unsigned_checkpoint.set_index(7);
  unsigned_checkpoint.set_first_sequence(901);
  unsigned_checkpoint.set_sequence(1000);
  unsigned_checkpoint.set_hash(std::string(64, 'a'));
  unsigned_checkpoint.set_prev_checkpoint_hash(std::string(64, 'b'));
  unsigned_checkpoint.set_reason(AuditCheckpoint::PERIODIC);
  unsigned_checkpoint.set_checkpoint_every(100);
  unsigned_checkpoint.set_epoch(1);
  unsigned_checkpoint.set_node("gw-1");
  unsigned_checkpoint.mutable_time()->set_seconds(1752544984);
  auto checkpoint = SignCheckpoint(*a, unsigned_checkpoint);
  ASSERT_THAT(checkpoint, IsOk());
  EXPECT_THAT(CheckpointHash(*checkpoint),
              IsOkAndHolds(checkpoint->checkpoint_hash()));
  EXPECT_EQ(checkpoint->public_key_sha256(), a->public_key().fingerprint());
  EXPECT_EQ(checkpoint->signature().size(), 128u);
  EXPECT_THAT(VerifyCheckpoint(*checkpoint, a->public_key()), IsOk());
  EXPECT_THAT(
      VerifyCheckpoint(*checkpoint, b->public_key()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another key")));

  // The auditor's copy of the public key, as PEM.
  auto public_key = PublicKey::FromPem(a->public_key().ToPem());
  ASSERT_THAT(public_key, IsOk());
  EXPECT_EQ(public_key->raw(), a->public_key().raw());
  EXPECT_THAT(VerifyCheckpoint(*checkpoint, *public_key), IsOk());
  // A private key file also yields the public key.
  EXPECT_THAT(PublicKey::FromPemFile(dir.File("a.pem")), IsOk());
  EXPECT_THAT(PublicKey::FromPem("junk"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));

  const auto expect_broken = [&](auto change) {
    AuditCheckpoint c = *checkpoint;
    change(c);
    EXPECT_THAT(VerifyCheckpoint(c, a->public_key()), Not(IsOk()));
  };
  // Every field is covered by the signature (or, for checkpoint_hash, must
  // be its hash).
  AuditCheckpoint changed = *checkpoint;
  int fields = 0;
  ChangeEachField(changed, [&](const std::string& name) {
    SCOPED_TRACE(name);
    ++fields;
    EXPECT_THAT(VerifyCheckpoint(changed, a->public_key()), Not(IsOk()));
  });
  EXPECT_GE(fields, 14);
  expect_broken([](AuditCheckpoint& c) {
    std::string sig = c.signature();
    sig[0] = sig[0] == '0' ? '1' : '0';
    c.set_signature(sig);
  });
  expect_broken([](AuditCheckpoint& c) { c.set_signature("00"); });
}

}  // namespace
}  // namespace lienthong::audit
