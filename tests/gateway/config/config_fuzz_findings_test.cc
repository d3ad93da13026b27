// Inputs that fuzzing (tests/fuzz/config_yaml) found the config loader
// mishandling, each answered now with a positioned error.
#include <string>

#include "gateway/config/config_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::config {
namespace {

using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<google::protobuf::Message> NoAdapters(absl::string_view) {
  return nullptr;
}

TEST(ConfigFuzzFindingsTest, AStrayCommaIsASyntaxErrorNotAnEndlessLoop) {
  // yaml-cpp 0.7's LoadAll allocated null documents until memory ran out
  // on these (jbeder/yaml-cpp#1040).
  struct Case {
    const char* yaml;
    const char* where;
  } cases[] = {
      {",", "test.yaml:1:1: "},
      {"  ,", "test.yaml:1:3: "},
      {"# comment\n,", "test.yaml:2:1: "},
      {"---\n,", "test.yaml:2:1: "},
      {"- a\n,", "test.yaml:2:1: "},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(LoadConfigYaml(c.yaml, "test.yaml", "", NoAdapters),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(std::string(c.where) +
                                   "YAML syntax error: unexpected ','")))
        << c.yaml;
  }
  // Two real documents are still told apart from the stray comma.
  EXPECT_THAT(LoadConfigYaml("node_name: a\n---\nnode_name: b\n", "test.yaml",
                             "", NoAdapters),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("test.yaml:3:1: only one YAML document")));
}

}  // namespace
}  // namespace lienthong::config
