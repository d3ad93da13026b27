#include "gateway/yaml/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>
#include <vector>

namespace lienthong::yaml {
namespace {

// Notes where each document starts, and where its first node is; ignores
// the rest.
class DocumentStartHandler final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
    first_nodes.push_back(mark);
    node_seen = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&,
                       YAML::anchor_t, YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> first_nodes;

 private:
  void Node(const YAML::Mark& mark) {
    if (!node_seen && !first_nodes.empty()) first_nodes.back() = mark;
    node_seen = true;
  }
  bool node_seen = false;
};

}  // namespace

DocumentScan ScanDocuments(const std::string& text) {
  DocumentStartHandler handler;
  std::istringstream in(text);
  YAML::Parser parser(in);
  for (int i = 0; i < 3 && parser.HandleNextDocument(handler); ++i) {
  }
  const std::vector<YAML::Mark>& starts = handler.starts;
  DocumentScan scan;
  if (starts.empty()) return scan;
  for (size_t i = 1; i < starts.size(); ++i) {
    if (starts[i].pos == starts[i - 1].pos) {
      scan.documents = Documents::kStrayToken;
      scan.where = starts[i];
      return scan;
    }
  }
  if (starts.size() > 1) {
    scan.documents = Documents::kMore;
    scan.where = handler.first_nodes[1];
    return scan;
  }
  scan.documents = Documents::kOne;
  return scan;
}

absl::string_view DocumentProblem(Documents documents) {
  switch (documents) {
    case Documents::kMore:
      return "only one YAML document is allowed";
    case Documents::kStrayToken:
      return "YAML syntax error: unexpected ',' or stray token";
    case Documents::kNone:
    case Documents::kOne:
      break;
  }
  return "";
}

}  // namespace lienthong::yaml
