// The generic YAML -> proto engine on message shapes the gateway config does
// not use yet (enums, maps, oneofs, unsigned and floating-point fields), and
// ${NAME} and ${credential:ID} substitution on their own.
#include "gateway/config/yaml_to_proto.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/population.pb.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::config::internal {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::optional<std::string> FakeEnv(const std::string& name) {
  static const auto* const kEnv = new std::map<std::string, std::string>{
      {"HOST", "10.0.0.1"}, {"EMPTY", ""}, {"BAD_UTF8", "\xff\xfe"}};
  auto it = kEnv->find(name);
  if (it == kEnv->end()) return std::nullopt;
  return it->second;
}

YamlToProtoOptions Options() {
  YamlToProtoOptions options;
  options.source_name = "t.yaml";
  options.getenv = FakeEnv;
  return options;
}

absl::Status ParseInto(const std::string& yaml,
                       google::protobuf::Message* message) {
  return ParseYamlIntoMessage(yaml, Options(), message, nullptr);
}

TEST(SubstituteEnvironmentTest, Table) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case kCases[] = {
      {"", ""},
      {"plain", "plain"},
      {"${HOST}", "10.0.0.1"},
      {"https://${HOST}:9443/${HOST}", "https://10.0.0.1:9443/10.0.0.1"},
      {"a${EMPTY}b", "ab"},
      {"$5 and $ and $$", "$5 and $ and $$"},
      {"$${HOST}", "${HOST}"},
      {"$$${HOST}", "$${HOST}"},  // "$", then an escaped "${"
      {"trailing $", "trailing $"},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(SubstituteEnvironment(c.text, FakeEnv), IsOkAndHolds(c.want))
        << c.text;
  }
  const Case kErrors[] = {
      {"${NOPE}", "environment variable 'NOPE' is not set"},
      {"x${HOST", "'${' without a closing '}'"},
      {"${}", "must hold an environment variable name"},
      {"${9LIVES}", "must hold an environment variable name"},
      {"${A-B}", "must hold an environment variable name"},
  };
  for (const Case& c : kErrors) {
    EXPECT_THAT(SubstituteEnvironment(c.text, FakeEnv),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.want)))
        << c.text;
  }
}

// A scratch credentials folder, as systemd's LoadCredential= makes it.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("c06-secret", "s3cr3t-value\n");
    Write("crlf", "value\r\n");
    Write("two-lines", "value\n\n");
    Write("bare", "no-line-end");
    Write("empty", "");
    Write("nul", std::string("a\0b", 3));
    Write("huge", std::string(64 * 1024 + 1, 'x'));
    ::mkdir((folder_ + "/folder").c_str(), 0700);
    ::mkfifo((folder_ + "/fifo").c_str(), 0600);
    Write("unreadable", "hidden");
    ::chmod((folder_ + "/unreadable").c_str(), 0);
  }

  void Write(const std::string& name, const std::string& contents) {
    std::ofstream(folder_ + "/" + name, std::ios::binary) << contents;
  }

  std::function<std::optional<std::string>(const std::string&)> Env() const {
    return [folder = folder_](
               const std::string& name) -> std::optional<std::string> {
      if (name == "CREDENTIALS_DIRECTORY") return folder;
      return FakeEnv(name);
    };
  }

  const ::lienthong::testing::ScratchDir scratch_{"credentials"};
  const std::string folder_ = scratch_.path();
};

TEST_F(CredentialsTest, ReplacedByTheFileLessOneLineEnd) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case kCases[] = {
      {"${credential:c06-secret}", "s3cr3t-value"},
      {"Bearer ${credential:bare}!", "Bearer no-line-end!"},
      {"${credential:crlf}", "value"},
      {"${credential:two-lines}", "value\n"},
      {"${credential:empty}", ""},
      {"${HOST}/${credential:bare}", "10.0.0.1/no-line-end"},
      {"$${credential:c06-secret}", "${credential:c06-secret}"},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(SubstituteEnvironment(c.text, Env()), IsOkAndHolds(c.want))
        << c.text;
  }
}

TEST_F(CredentialsTest, RefusalsNameTheCredentialNeverItsContents) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case kErrors[] = {
      {"${credential:missing}",
       "credential 'missing' in CREDENTIALS_DIRECTORY cannot be read: No such "
       "file"},
      {"${credential:}", "must hold a credential name"},
      {"${credential:../c06-secret}", "must hold a credential name"},
      {"${credential:..}", "must hold a credential name"},
      {"${credential:a/b}", "must hold a credential name"},
      {"${credential:nul}",
       "credential 'nul' in CREDENTIALS_DIRECTORY holds a "
       "NUL byte"},
      {"${credential:huge}",
       "'huge' in CREDENTIALS_DIRECTORY is larger than "
       "64 KiB"},
      {"${credential:folder}",
       "'folder' in CREDENTIALS_DIRECTORY is not a "
       "regular file"},
      {"${credential:fifo}",
       "'fifo' in CREDENTIALS_DIRECTORY is not a "
       "regular file"},
  };
  for (const Case& c : kErrors) {
    auto result = SubstituteEnvironment(c.text, Env());
    EXPECT_THAT(result,
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.want)))
        << c.text;
    EXPECT_THAT(result.status().message(), Not(HasSubstr(folder_))) << c.text;
  }
  if (geteuid() != 0) {  // root reads a file whatever its mode
    EXPECT_THAT(SubstituteEnvironment("${credential:unreadable}", Env()),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("cannot be read: Permission denied")));
  }
}

TEST_F(CredentialsTest, NeedsTheCredentialsDirectory) {
  EXPECT_THAT(SubstituteEnvironment("${credential:c06-secret}", FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "credential 'c06-secret': CREDENTIALS_DIRECTORY is not "
                       "set (systemd sets it for a service with "
                       "LoadCredential=)"));
}

TEST_F(CredentialsTest, InvalidUtf8InACredentialIsRefusedUnquoted) {
  Write("latin1", "caf\xe9");
  YamlToProtoOptions options = Options();
  options.getenv = Env();
  google::protobuf::StringValue s;
  EXPECT_THAT(ParseYamlIntoMessage("value: ${credential:latin1}\n", options, &s,
                                   nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:1:8: value: is not valid UTF-8"));
  ASSERT_THAT(ParseYamlIntoMessage("value: x${credential:c06-secret}\n",
                                   options, &s, nullptr),
              IsOk());
  EXPECT_EQ(s.value(), "xs3cr3t-value");
}

TEST(YamlToProtoTest, EnumsByValueName) {
  lienthong::v1::Citizen citizen;
  ASSERT_THAT(
      ParseInto("gender: GENDER_FEMALE\nethnicity: ETHNICITY_TAY\n", &citizen),
      IsOk());
  EXPECT_EQ(citizen.gender(), lienthong::v1::GENDER_FEMALE);
  EXPECT_EQ(citizen.ethnicity(), lienthong::v1::ETHNICITY_TAY);

  EXPECT_THAT(ParseInto("gender: FEMALE\n", &citizen),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:1:9: gender: expected one of "
                       "GENDER_UNSPECIFIED, GENDER_MALE, GENDER_FEMALE, got "
                       "another string"));
  EXPECT_THAT(ParseInto("gender: 2\n", &citizen),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("got an integer")));
}

TEST(YamlToProtoTest, NestedMessagesAndRepeated) {
  lienthong::v1::Citizen citizen;
  ASSERT_THAT(ParseInto("name: {family: Nguyễn, given: An}\n"
                        "permanent_address:\n  province_code: \"33\"\n",
                        &citizen),
              IsOk());
  EXPECT_EQ(citizen.name().family(), "Nguyễn");
  EXPECT_EQ(citizen.permanent_address().province_code(), "33");
}

TEST(YamlToProtoTest, UnsignedAndWideIntegers) {
  google::protobuf::UInt32Value u32;
  EXPECT_THAT(ParseInto("value: 4294967295\n", &u32), IsOk());
  EXPECT_EQ(u32.value(), 4294967295u);
  EXPECT_THAT(ParseInto("value: 4294967296\n", &u32),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:1:8: value: 4294967296 is out of range (0 to "
                       "4294967295)"));
  EXPECT_THAT(ParseInto("value: -1\n", &u32),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("-1 is out of range")));

  google::protobuf::UInt64Value u64;
  EXPECT_THAT(ParseInto("value: 18446744073709551615\n", &u64), IsOk());
  EXPECT_EQ(u64.value(), 18446744073709551615u);
  EXPECT_THAT(
      ParseInto("value: 18446744073709551616\n", &u64),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of range")));

  google::protobuf::Int64Value i64;
  EXPECT_THAT(ParseInto("value: -9223372036854775808\n", &i64), IsOk());
  EXPECT_EQ(i64.value(), INT64_MIN);
  EXPECT_THAT(
      ParseInto("value: 9223372036854775808\n", &i64),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(ParseInto("value: +42\n", &i64), IsOk());
  EXPECT_EQ(i64.value(), 42);
}

TEST(YamlToProtoTest, FloatingPoint) {
  google::protobuf::DoubleValue d;
  EXPECT_THAT(ParseInto("value: 2.5e3\n", &d), IsOk());
  EXPECT_EQ(d.value(), 2500.0);
  EXPECT_THAT(ParseInto("value: 7\n", &d), IsOk());  // an integer will do
  EXPECT_EQ(d.value(), 7.0);
  EXPECT_THAT(ParseInto("value: -.inf\n", &d), IsOk());
  EXPECT_TRUE(std::isinf(d.value()) && d.value() < 0);
  EXPECT_THAT(ParseInto("value: .nan\n", &d), IsOk());
  EXPECT_TRUE(std::isnan(d.value()));
  EXPECT_THAT(ParseInto("value: fast\n", &d),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:1:8: value: expected a number, got a string"));

  google::protobuf::FloatValue f;
  EXPECT_THAT(ParseInto("value: 0.5\n", &f), IsOk());
  EXPECT_EQ(f.value(), 0.5f);
  EXPECT_THAT(ParseInto("value: 1e39\n", &f),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("1e39 is out of range (a float)")));
}

TEST(YamlToProtoTest, ProtoMapsAndOneofs) {
  google::protobuf::Struct s;
  ASSERT_THAT(ParseInto("fields:\n  a: {number_value: 2}\n"
                        "  b: {string_value: \"${HOST}\"}\n"
                        "  c: {null_value: NULL_VALUE}\n",
                        &s),
              IsOk());
  EXPECT_EQ(s.fields().at("a").number_value(), 2.0);
  EXPECT_EQ(s.fields().at("b").string_value(), "10.0.0.1");
  EXPECT_EQ(s.fields().at("c").kind_case(),
            google::protobuf::Value::kNullValue);

  EXPECT_THAT(ParseInto("fields:\n  a: {}\n  a: {}\n", &s),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:3:3: duplicate key 'a' in fields (first at "
                       "line 2)"));
  EXPECT_THAT(ParseInto("fields: [a]\n", &s),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:1:9: fields: expected a map, got a list"));
  EXPECT_THAT(ParseInto("fields:\n  a: {numbr_value: 2}\n", &s),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.yaml:2:7: unknown key 'numbr_value' in "
                                 "fields[a] (known keys: null_value, ")));

  google::protobuf::Value v;
  EXPECT_THAT(ParseInto("number_value: 1\nstring_value: x\n", &v),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:2:1: 'number_value' and 'string_value' in the "
                       "top level exclude each other (oneof kind): give one"));
}

TEST(YamlToProtoTest, AnyNeedsASiblingTypeField) {
  // google.protobuf.Option has an Any but no `type` to choose its message.
  google::protobuf::Option option;
  EXPECT_THAT(ParseInto("name: x\nvalue: {a: 1}\n", &option),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.yaml:2:1: value: google.protobuf.Option "
                                 "has no string field 'type'")));
}

TEST(YamlToProtoTest, InvalidUtf8IsRefused) {
  google::protobuf::StringValue s;
  EXPECT_THAT(ParseInto("value: ${BAD_UTF8}\n", &s),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.yaml:1:8: value: is not valid UTF-8"));
  EXPECT_THAT(ParseInto("value: \"Hưng Yên\"\n", &s), IsOk());
  EXPECT_EQ(s.value(), "Hưng Yên");
}

TEST(YamlToProtoTest, RecordsWhereEachFieldWasWritten) {
  lienthong::config::v1::GatewayConfig config;
  PositionMap positions;
  ASSERT_THAT(ParseYamlIntoMessage("listener:\n"
                                   "  tls:\n"
                                   "    cert_file: a.pem\n"
                                   "clients:\n"
                                   "  - id: a\n"
                                   "  - id: b\n"
                                   "    methods: [x, y]\n",
                                   Options(), &config, &positions),
              IsOk());
  auto at = [&](const std::string& path) {
    auto it = positions.find(path);
    return it == positions.end()
               ? std::string("none")
               : absl::StrCat(it->second.line, ":", it->second.column);
  };
  EXPECT_EQ(at("listener"), "1:1");
  EXPECT_EQ(at("listener.tls.cert_file"), "3:5");
  EXPECT_EQ(at("clients[1]"), "6:5");
  EXPECT_EQ(at("clients[1].id"), "6:5");
  EXPECT_EQ(at("clients[1].methods[1]"), "7:18");
  EXPECT_EQ(at("logging"), "none");
}

TEST(YamlToProtoTest, DeepNestingStopsCleanly) {
  // Value -> list_value -> values[0] -> list_value ... 40 levels down.
  std::string yaml = "null_value: NULL_VALUE";
  for (int i = 0; i < 40; ++i) {
    yaml = absl::StrCat("list_value: {values: [{", yaml, "}]}");
  }
  google::protobuf::Value value;
  EXPECT_THAT(ParseInto(yaml, &value),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nested too deeply")));

  // Deeper than yaml-cpp itself accepts: still a status, not a crash.
  google::protobuf::ListValue list;
  EXPECT_FALSE(ParseInto(std::string(100000, '['), &list).ok());
}

}  // namespace
}  // namespace lienthong::config::internal
