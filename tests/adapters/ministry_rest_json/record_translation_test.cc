// The ministry-rest-json adapter's translation, table-driven: JSON pointers
// (RFC 6901), request templates, and reading replies (not found, failures
// answered as HTTP 200, malformed and hostile replies, wrong types).
#include <map>
#include <string>
#include <utility>

#include "adapters/common/retriable.h"
#include "adapters/ministry_rest_json/json_pointer.h"
#include "adapters/ministry_rest_json/record_reply.h"
#include "adapters/ministry_rest_json/record_template.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::ministry_rest_json {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// RFC 6901 section 5's document.
constexpr char kRfcDocument[] = R"({
  "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
  "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8})";

google::protobuf::Value Parse(const char* json) {
  google::protobuf::Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &value).ok());
  return value;
}

std::string At(const google::protobuf::Value& root, const char* pointer) {
  auto parsed = JsonPointer::Parse(pointer);
  if (!parsed.ok()) return "<bad pointer>";
  const google::protobuf::Value* value = parsed->Resolve(root);
  if (value == nullptr) return "<none>";
  if (value->has_list_value()) return "<array>";
  if (value->has_struct_value()) return "<object>";
  return ScalarText(*value)->value_or("<null>");
}

TEST(JsonPointerTest, Rfc6901Examples) {
  const google::protobuf::Value doc = Parse(kRfcDocument);
  const std::pair<const char*, const char*> kCases[] = {
      {"", "<object>"}, {"/foo", "<array>"}, {"/foo/0", "bar"},
      {"/", "0"},       {"/a~1b", "1"},      {"/c%d", "2"},
      {"/e^f", "3"},    {"/g|h", "4"},       {"/i\\j", "5"},
      {"/k\"l", "6"},   {"/ ", "7"},         {"/m~0n", "8"},
  };
  for (const auto& [pointer, expected] : kCases) {
    EXPECT_EQ(At(doc, pointer), expected) << pointer;
  }
}

TEST(JsonPointerTest, WhatIsNotThereIsNone) {
  const google::protobuf::Value doc = Parse(kRfcDocument);
  for (const char* pointer :
       {"/missing", "/foo/2", "/foo/-", "/foo/01", "/foo/x", "/foo/0/deeper",
        "/foo/99999999999999999999"}) {
    EXPECT_EQ(At(doc, pointer), "<none>") << pointer;
  }
}

TEST(JsonPointerTest, MalformedPointersAreConfigErrors) {
  for (const char* text : {"foo", "/a~2b", "/a~"}) {
    EXPECT_THAT(JsonPointer::Parse(text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(text)))
        << text;
  }
}

TEST(ScalarTextTest, ScalarsAsText) {
  const google::protobuf::Value doc = Parse(
      R"({"s": "Hưng Yên", "i": 5000000000, "f": 1.5, "t": true, "n": null})");
  EXPECT_EQ(At(doc, "/s"), "Hưng Yên");
  EXPECT_EQ(At(doc, "/i"), "5000000000");
  EXPECT_EQ(At(doc, "/f"), "1.5");
  EXPECT_EQ(At(doc, "/t"), "true");
  EXPECT_EQ(At(doc, "/n"), "<null>");
}

TEST(ScalarTextTest, NumbersAsTheShortestTextThatReadsBack) {
  const google::protobuf::Value doc = Parse(
      R"({"a": 0.1, "b": 0.30000000000000004, "c": 0.3333333333333333,
          "d": 1e-7, "e": -2.5, "f": 9007199254740991,
          "g": -9007199254740991})");
  EXPECT_EQ(At(doc, "/a"), "0.1");
  EXPECT_EQ(At(doc, "/b"), "0.30000000000000004");
  EXPECT_EQ(At(doc, "/c"), "0.3333333333333333");
  EXPECT_EQ(At(doc, "/d"), "1e-07");
  EXPECT_EQ(At(doc, "/e"), "-2.5");
  EXPECT_EQ(At(doc, "/f"), "9007199254740991");
  EXPECT_EQ(At(doc, "/g"), "-9007199254740991");
}

TEST(ScalarTextTest, IntegersADoubleCannotHoldAreRefused) {
  const google::protobuf::Value doc =
      Parse(R"({"a": 9007199254740992, "b": 12345678901234567, "c": -1e300})");
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_THAT(ScalarText(doc.struct_value().fields().at(std::string(name))),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2^53")))
        << name;
  }
}

// Strings are text: JSON's \u0000 and \u001b decode into the value, where
// a NUL would cut an ID short and an escape sequence reach a terminal.
// Tab and line breaks are text.
TEST(ScalarTextTest, StringsWithControlCharactersAreRefused) {
  const google::protobuf::Value doc = Parse(
      R"({"nul": "0101\u0000 99", "esc": "A\u001b[2JB", "del": "a\u007f",
          "lines": "Thôn 3\nxã Đông\tHưng Yên"})");
  for (const char* name : {"nul", "esc", "del"}) {
    EXPECT_THAT(ScalarText(doc.struct_value().fields().at(std::string(name))),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("a string that is not text")))
        << name;
  }
  EXPECT_EQ(At(doc, "/lines"), "Thôn 3\nxã Đông\tHưng Yên");
  const std::string long_json = absl::StrCat(
      R"({"x": ")", std::string(kMaxScalarTextBytes + 1, 'a'), R"("})");
  const google::protobuf::Value long_text = Parse(long_json.c_str());
  EXPECT_THAT(ScalarText(long_text.struct_value().fields().at("x")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a string that is not text")));
}

TEST(RecordTemplateTest, PathValuesArePercentEncoded) {
  auto path = RecordTemplate::Parse("/dn/{tax_code}?chi_nhanh={branch}",
                                    {"tax_code", "branch"});
  ASSERT_THAT(path, IsOk());
  const std::pair<std::map<std::string, std::string>, const char*> kCases[] = {
      {{{"tax_code", "0101234567"}, {"branch", "001"}},
       "/dn/0101234567?chi_nhanh=001"},
      {{{"tax_code", "../admin"}}, "/dn/..%2Fadmin?chi_nhanh="},
      {{{"tax_code", "a b&c=d#e?"}, {"branch", "Hà Nội"}},
       "/dn/a%20b%26c%3Dd%23e%3F?chi_nhanh=H%C3%A0%20N%E1%BB%99i"},
      {{{"tax_code", "{branch}"}}, "/dn/%7Bbranch%7D?chi_nhanh="},
  };
  for (const auto& [values, expected] : kCases) {
    EXPECT_THAT(path->ExpandPath(values), IsOkAndHolds(expected));
  }
}

TEST(RecordTemplateTest, PathValuesMakingDotOrEmptySegmentsAreRefused) {
  auto path = RecordTemplate::Parse("/ho-so/{id}/chi-tiet/{a}{b}?nam={year}",
                                    {"id", "a", "b", "year"});
  ASSERT_THAT(path, IsOk());
  using Values = std::map<std::string, std::string>;
  const std::pair<Values, const char*> kRefused[] = {
      {{{"id", ".."}, {"a", "x"}}, "parameter 'id' would make"},
      {{{"id", "."}, {"a", "x"}}, "parameter 'id' would make"},
      {{{"id", ""}, {"a", "x"}}, "parameter 'id' would make"},
      {{{"a", "x"}}, "parameter 'id' would make"},
      {{{"id", "1"}, {"a", "."}, {"b", "."}}, "parameters 'a', 'b' would make"},
      {{{"id", "1"}}, "parameters 'a', 'b' would make"},
  };
  for (const auto& [values, message] : kRefused) {
    EXPECT_THAT(
        path->ExpandPath(values),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << message;
  }
  const std::pair<Values, const char*> kSent[] = {
      {{{"id", "..."}, {"a", ".."}, {"b", "."}, {"year", ".."}},
       "/ho-so/.../chi-tiet/...?nam=.."},
      {{{"id", "../x"}, {"a", "."}, {"b", "a"}},
       "/ho-so/..%2Fx/chi-tiet/.a?nam="},
      {{{"id", "%2E%2E"}, {"b", "x"}}, "/ho-so/%252E%252E/chi-tiet/x?nam="},
  };
  for (const auto& [values, expected] : kSent) {
    EXPECT_THAT(path->ExpandPath(values), IsOk());
    EXPECT_EQ(path->ExpandPath(values).value_or(""), expected);
  }
  // The template's own text is as configured.
  auto literal = RecordTemplate::Parse("/a/./b//{id}#..", {"id"});
  ASSERT_THAT(literal, IsOk());
  EXPECT_EQ(literal->ExpandPath({{"id", "1"}}).value_or(""), "/a/./b//1#..");
  EXPECT_EQ(literal->ExpandPath({}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RecordTemplateTest, BodyValuesAreJsonEscapedAndJsonBracesLiteral) {
  auto body = RecordTemplate::Parse(R"({"maSoThue": "{tax_code}", "x": {}})",
                                    {"tax_code"});
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->ExpandJson({{"tax_code", "0101234567"}}),
            R"({"maSoThue": "0101234567", "x": {}})");
  EXPECT_EQ(body->ExpandJson({{"tax_code", "a\"b\\c\x01"}}),
            R"({"maSoThue": "a\"b\\c\u0001", "x": {}})");
  EXPECT_THAT(body->names(), ElementsAre("tax_code"));
}

TEST(RecordTemplateTest, BodyPlaceholdersInDoubleQuotedStringsOnly) {
  const struct {
    const char* text;
    const char* problem;  // empty: none
  } kCases[] = {
      {R"({"a": "{x}", "b": {}})", ""},
      {R"({"{x}": 1})", ""},
      {R"({"a\"{x}": 1})", ""},  // an escaped quote does not end it
      {R"({"a\\": {x}})", "outside a double-quoted"},  // nor does \\ escape
      // A value starting with a quote is sent as \": after the template's
      // backslash, \\" ends the string and the rest of the value is outside.
      {R"({"a": "\{x}"})", "right after a backslash"},
      {R"({"a": "\\{x}"})", ""},  // an escaped backslash escapes nothing
      {R"({"a": '{x}'})", "single quote"},
      {R"({ {x}: "1" })", "outside a double-quoted"},
      {R"({"a": "b", "c": {x}})", "outside a double-quoted"},
      // A single-quoted string around a double-quoted one: a value of
      // "', role: 'admin" would add a member.
      {R"({"a": '"{x}"'})", "single quote"},
      // Braces in a string are mistyped placeholders.
      {R"({"a": "{x}", "b": "{taxCode}"})", "not a placeholder"},
      {R"({"a": "{x}", "b": "{x"})", "not a placeholder"},
  };
  for (const auto& c : kCases) {
    auto body = RecordTemplate::Parse(c.text, {"x"});
    ASSERT_THAT(body, IsOk()) << c.text;
    if (*c.problem == '\0') {
      EXPECT_THAT(body->CheckJsonBody(), IsOk()) << c.text;
    } else {
      EXPECT_THAT(
          body->CheckJsonBody(),
          StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.problem)))
          << c.text;
    }
  }
}

TEST(RecordTemplateTest, PlaceholdersMustNameParameters) {
  EXPECT_THAT(RecordTemplate::Parse("/dn/{taxcode}", {"tax_code"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("{taxcode} names no parameter")));
  // Not placeholders (upper case, empty, unclosed): no path has braces, so
  // they are mistyped ones.
  for (const char* path : {"/dn/{Tax}/{tax_code}", "/dn/{}/{tax_code}",
                           "/dn/{tax_code", "/dn/{tax-code}", "/dn/a}"}) {
    auto parsed = RecordTemplate::Parse(path, {"tax_code"});
    ASSERT_THAT(parsed, IsOk()) << path;
    EXPECT_THAT(parsed->CheckPath(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("not a placeholder")))
        << path;
  }
  auto good = RecordTemplate::Parse("/dn/{tax_code}?a=1", {"tax_code"});
  ASSERT_THAT(good, IsOk());
  EXPECT_THAT(good->CheckPath(), IsOk());
}

ReplyRules Rules() {
  ReplyRules rules;
  rules.record_type = "enterprise";
  rules.fields = {{"name", *JsonPointer::Parse("/duLieu/ten")},
                  {"status", *JsonPointer::Parse("/duLieu/tinhTrang")},
                  {"capital", *JsonPointer::Parse("/duLieu/von")},
                  {"representative", *JsonPointer::Parse("/duLieu/dd/0/hoTen")}};
  rules.reference = *JsonPointer::Parse("/maGiaoDich");
  rules.max_bytes = 400;
  return rules;
}

// The field problem a failed read carries for the log, or "<none>".
std::string FieldProblem(const absl::Status& status) {
  absl::optional<absl::Cord> problem = status.GetPayload(kFieldProblemPayload);
  return problem.has_value() ? std::string(*problem) : "<none>";
}

TEST(ReadRecordReplyTest, FieldsInTheRulesOrderAbsentOnesLeftOut) {
  auto reply = ReadRecordReply(
      Rules(), 200,
      R"({"maGiaoDich": "G-1", "duLieu": {"von": 5e9, "ten": "Công ty A",
          "tinhTrang": null, "dd": [{"hoTen": "Trần B"}]}})",
      "");
  ASSERT_THAT(reply, IsOk());
  EXPECT_THAT(reply->value.fields,
              ElementsAre(Pair("name", "Công ty A"),
                          Pair("capital", "5000000000"),
                          Pair("representative", "Trần B")));
  EXPECT_EQ(reply->reference, "G-1");
}

struct ReplyCase {
  const char* what;
  long status;
  const char* body;
  absl::StatusCode code;
  const char* message;  // substring
  bool retriable = false;
};

const ReplyCase kReplyCases[] = {
    {"404 is not found", 404, "{}", absl::StatusCode::kNotFound,
     "no such 'enterprise' record"},
    {"404 with any body", 404, "<html>", absl::StatusCode::kNotFound, ""},
    {"503 busy", 503, "", absl::StatusCode::kUnavailable, "HTTP 503", true},
    {"429", 429, "", absl::StatusCode::kUnavailable, "HTTP 429", true},
    {"500", 500, "{}", absl::StatusCode::kUnavailable, "HTTP 500"},
    {"401 (our key refused)", 401, "{}", absl::StatusCode::kUnavailable,
     "HTTP 401"},
    {"truncated JSON", 200, R"({"duLieu": {"ten": "Cô)",
     absl::StatusCode::kUnavailable, "not JSON"},
    {"not JSON at all", 200, "<soap/>", absl::StatusCode::kUnavailable,
     "not JSON"},
    {"empty body", 200, "", absl::StatusCode::kUnavailable, "not JSON"},
    {"an array", 200, "[1, 2]", absl::StatusCode::kUnavailable,
     "not a JSON object"},
    {"a string", 200, "\"ok\"", absl::StatusCode::kUnavailable,
     "not a JSON object"},
    {"a field that is an object", 200, R"({"duLieu": {"ten": {"a": 1}}})",
     absl::StatusCode::kUnavailable, "answered an unreadable field"},
    {"a field that is an array", 200, R"({"duLieu": {"tinhTrang": [1]}})",
     absl::StatusCode::kUnavailable, "answered an unreadable field"},
    {"a reference that is an object", 200, R"({"maGiaoDich": {}})",
     absl::StatusCode::kUnavailable, "reference (/maGiaoDich)"},
    {"too big", 200, nullptr, absl::StatusCode::kUnavailable,
     "a reply over 400 bytes"},
};

TEST(ReadRecordReplyTest, HostileAndFailedReplies) {
  for (const ReplyCase& c : kReplyCases) {
    const std::string body =
        c.body != nullptr
            ? c.body
            : "{\"duLieu\": {\"ten\": \"" + std::string(500, 'x') + "\"}}";
    auto reply = ReadRecordReply(Rules(), c.status, body, "");
    EXPECT_THAT(reply, StatusIs(c.code, AllOf(HasSubstr(c.message),
                                              Not(HasSubstr("Cô")),
                                              Not(HasSubstr("xxxx")))))
        << c.what;
    EXPECT_EQ(IsRetriable(reply.status()), c.retriable) << c.what;
  }
}

TEST(ReadRecordReplyTest, NumbersKeepTheirValue) {
  ReplyRules rules = Rules();
  rules.fields = {{"a", *JsonPointer::Parse("/a")},
                  {"b", *JsonPointer::Parse("/b")}};
  auto reply = ReadRecordReply(rules, 200, R"({"a": 0.1})", "");
  ASSERT_THAT(reply, IsOk());
  EXPECT_THAT(reply->value.fields, ElementsAre(Pair("a", "0.1")));
  // 12345678901234567 parses as 12345678901234568: refused, not altered.
  auto big =
      ReadRecordReply(rules, 200, R"({"a": 0.1, "b": 12345678901234567})", "");
  EXPECT_THAT(big, StatusIs(absl::StatusCode::kUnavailable,
                            AllOf(HasSubstr("an unreadable field"),
                                  Not(HasSubstr("1234567")))));
  EXPECT_THAT(FieldProblem(big.status()),
              AllOf(HasSubstr("field 'b' (/b)"), HasSubstr("2^53"),
                    Not(HasSubstr("1234567"))));
  EXPECT_FALSE(IsRetriable(big.status()));
}

// Which field could not be read goes only to the operator's log (the
// payload the adapter logs): the field may be one the caller's grant
// withholds, and the message would tell the caller it is there and its
// shape.
TEST(ReadRecordReplyTest, AnUnreadableFieldIsNamedOnlyForTheLog) {
  auto object = ReadRecordReply(
      Rules(), 200, R"({"duLieu": {"ten": "A", "tinhTrang": {"x": 1}}})", "");
  EXPECT_THAT(object, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("'enterprise'"),
                                     Not(HasSubstr("status")),
                                     Not(HasSubstr("tinhTrang")))));
  EXPECT_EQ(FieldProblem(object.status()),
            "field 'status' (/duLieu/tinhTrang) as an object, not a scalar");
}

// Refused before protobuf's parser sees them: it takes time far beyond
// linear in the nesting (these two took 22 s), on the event thread every
// national system's calls share.
TEST(ReadRecordReplyTest, DeeplyNestedRepliesAreRefusedNotACrash) {
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  ReplyRules rules = Rules();
  rules.max_bytes = 1 << 20;
  EXPECT_THAT(ReadRecordReply(rules, 200, deep, ""),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("a reply that is nested more than 32 deep")));
  const std::string deep_object =
      "{\"a\":" + std::string(20000, '[') + std::string(20000, ']') + "}";
  EXPECT_THAT(ReadRecordReply(rules, 200, deep_object, ""),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("a reply that is nested more than 32 deep")));
}

TEST(ReadRecordReplyTest, NotFoundByAValueInTheReply) {
  ReplyRules rules = Rules();
  rules.not_found_statuses = {};
  rules.not_found_pointer = *JsonPointer::Parse("/maLoi");
  rules.not_found_equals = "KHONG_TIM_THAY";
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"maLoi": "KHONG_TIM_THAY"})", ""),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("enterprise")));
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"maLoi": "00"})", ""), IsOk());
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({})", ""), IsOk());
  // 404 is then just a failure.
  EXPECT_THAT(ReadRecordReply(rules, 404, "{}", ""),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 404")));

  // With no value to compare: absent or null means not found.
  rules.not_found_equals.clear();
  rules.not_found_pointer = *JsonPointer::Parse("/duLieu");
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"duLieu": null})", ""),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"maLoi": "00"})", ""),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"duLieu": {"ten": "A"}})", ""),
              IsOk());
}

// A system answering failures as HTTP 200, the agencies' convention:
// {"error_code": "0", "message": ..., "data": {...}} for success.
ReplyRules ErrorCodeRules() {
  ReplyRules rules;
  rules.record_type = "enterprise";
  rules.fields = {{"name", *JsonPointer::Parse("/data/ten")},
                  {"status", *JsonPointer::Parse("/data/tinhTrang")}};
  rules.success_pointer = *JsonPointer::Parse("/error_code");
  rules.success_equals = {"0", "00"};
  return rules;
}

// Personal data a failure's message may carry: never in a status.
constexpr char kReason[] = "Nguyễn Văn An 001099012345";

TEST(ReadRecordReplyTest, SuccessCodeAcceptedAndFieldsMapped) {
  const char* kBodies[] = {
      R"({"error_code": "0", "message": "OK", "data": {"ten": "Công ty A",
          "tinhTrang": "x"}})",
      R"({"error_code": "00", "data": {"ten": "Công ty A", "tinhTrang": "x"}})",
      // A number compares as its text.
      R"({"error_code": 0, "data": {"ten": "Công ty A", "tinhTrang": "x"}})",
  };
  for (const char* body : kBodies) {
    auto reply = ReadRecordReply(ErrorCodeRules(), 200, body, "");
    ASSERT_THAT(reply, IsOk()) << body;
    EXPECT_THAT(reply->value.fields,
                ElementsAre(Pair("name", "Công ty A"), Pair("status", "x")))
        << body;
  }
}

TEST(ReadRecordReplyTest, OtherCodeIsUnavailableNamingTheCodeNotTheMessage) {
  const std::pair<std::string, const char*> kFailures[] = {
      {R"({"error_code": "E102", "message": ")" + std::string(kReason) +
           R"("})",
       "code 'E102' at /error_code"},
      {R"({"error_code": 99, "message": ")" + std::string(kReason) + R"("})",
       "code '99' at /error_code"},
      // Fields present do not make a failure a record.
      {R"({"error_code": "1", "message": ")" + std::string(kReason) +
           R"(", "data": {"ten": "Công ty A"}})",
       "code '1' at /error_code"},
      {R"({"error_code": false})", "code 'false'"},
      // Exactly 32 token characters are still shown.
      {R"({"error_code": ")" + std::string(32, 'E') + R"("})",
       "code 'EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE'"},
  };
  for (const auto& [body, message] : kFailures) {
    auto reply = ReadRecordReply(ErrorCodeRules(), 200, body, "");
    EXPECT_THAT(reply,
                StatusIs(absl::StatusCode::kUnavailable,
                         AllOf(HasSubstr("the system serving 'enterprise'"),
                               HasSubstr(message), Not(HasSubstr("Nguyễn")),
                               Not(HasSubstr("001099012345")),
                               Not(HasSubstr("Công ty")))))
        << body;
    EXPECT_FALSE(IsRetriable(reply.status())) << body;
  }
}

TEST(ReadRecordReplyTest, AbsentCodeIsUnavailable) {
  for (const char* body :
       {R"({"data": {"ten": "Công ty A"}})", R"({"error_code": null})", R"({})",
        R"({"errorCode": "0", "message": "OK"})"}) {
    auto reply = ReadRecordReply(ErrorCodeRules(), 200, body, "");
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                                AllOf(HasSubstr("'enterprise'"),
                                      HasSubstr("without a result code at "
                                                "/error_code"),
                                      Not(HasSubstr("Công ty")))))
        << body;
    EXPECT_FALSE(IsRetriable(reply.status())) << body;
  }
}

TEST(ReadRecordReplyTest, LongOrUnprintableCodesAreNotEchoed) {
  const std::pair<const char*, const char*> kCodes[] = {
      // body, what must not appear in the status
      {R"({"error_code": "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"})",  // 33 bytes
       "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"},
      {R"({"error_code": "Nguyễn Văn An"})", "Nguy"},
      {R"({"error_code": "E 1"})", "E 1"},
      {R"({"error_code": "E\n1"})", "E\n1"},
      {R"({"error_code": "E'1"})", "E'1"},
      {R"({"error_code": "001099012345 Lê"})", "001099012345"},
      // A token, but a number that could be an ID or a date of birth.
      {R"({"error_code": "001099012345"})", "001099012345"},
      {R"({"error_code": 19900101})", "19900101"},
      {R"({"error_code": "D-1990-01"})", "1990"},
      {R"({"error_code": {"ma": "E1"}})", "E1"},
      {R"({"error_code": ["E1"]})", "E1"},
  };
  for (const auto& [body, hidden] : kCodes) {
    auto reply = ReadRecordReply(ErrorCodeRules(), 200, body, "");
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                                AllOf(HasSubstr("an unreadable code at "
                                                "/error_code"),
                                      Not(HasSubstr(hidden)))))
        << body;
    EXPECT_FALSE(IsRetriable(reply.status())) << body;
  }
}

TEST(ReadRecordReplyTest, NotFoundRulesBesideTheSuccessRule) {
  ReplyRules rules = ErrorCodeRules();
  // By HTTP status (the default 404), whatever the body.
  EXPECT_THAT(ReadRecordReply(rules, 404, R"({"error_code": "E404"})", ""),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("enterprise")));
  // By a code of its own.
  rules.not_found_pointer = *JsonPointer::Parse("/error_code");
  rules.not_found_equals = "E404";
  auto by_code = ReadRecordReply(
      rules, 200,
      R"({"error_code": "E404", "message": ")" + std::string(kReason) + R"("})",
      "");
  EXPECT_THAT(by_code, StatusIs(absl::StatusCode::kNotFound,
                                AllOf(HasSubstr("no such 'enterprise' record"),
                                      Not(HasSubstr("Nguyễn")))));
  EXPECT_THAT(
      ReadRecordReply(rules, 200, R"({"error_code": "E500"})", ""),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("code 'E500'")));
  // By an absent value, once the success rule holds: a failure's reply
  // has no record either, and stays a failure (not "no such record", which
  // is not retried and tells the officer something untrue).
  rules.not_found_pointer = *JsonPointer::Parse("/data");
  rules.not_found_equals.clear();
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"error_code": "0"})", ""),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(
      ReadRecordReply(rules, 200, R"({"error_code": "0", "data": null})", ""),
      StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(ReadRecordReply(rules, 200,
                              R"({"error_code": "99", "message": "x"})", ""),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("code '99'")));
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"message": "x"})", ""),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT(ReadRecordReply(rules, 200, R"({"error_code": "0",
                                              "data": {"ten": "A"}})",
                              ""),
              IsOk());
}

TEST(ReadRecordReplyTest, SuccessRuleLeavesOtherStatusesAsTheyWere) {
  auto busy = ReadRecordReply(ErrorCodeRules(), 503, "", "");
  EXPECT_THAT(busy,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 503")));
  EXPECT_TRUE(IsRetriable(busy.status()));
  EXPECT_THAT(
      ReadRecordReply(ErrorCodeRules(), 500, R"({"error_code": "0"})", ""),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 500")));
  EXPECT_THAT(
      ReadRecordReply(ErrorCodeRules(), 200, "[]", ""),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not a JSON object")));
}

}  // namespace
}  // namespace lienthong::adapters::ministry_rest_json
