// How many documents a YAML stream holds, for files that must hold one.
// yaml-cpp 0.7's YAML::Load reads the first document and ignores the rest,
// and its YAML::LoadAll never ends on a stray ',' (yaml-cpp issue 1040):
// it reads endless empty documents at the same place.
#ifndef LIENTHONG_GATEWAY_YAML_YAML_DOCUMENTS_H_
#define LIENTHONG_GATEWAY_YAML_YAML_DOCUMENTS_H_

#include <yaml-cpp/mark.h>

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::yaml {

enum class Documents {
  kNone,  // empty, or only comments
  kOne,
  kMore,        // a second document starts at `where`, its first node
  kStrayToken,  // a token yaml-cpp reads as endless documents, at `where`
};

struct DocumentScan {
  Documents documents = Documents::kNone;
  YAML::Mark where;
};

// Reads at most three documents' events of `text`. Throws what yaml-cpp's
// parser throws on a syntax error (YAML::ParserException, with its mark).
DocumentScan ScanDocuments(const std::string& text);

// What is wrong with a file of `documents` that must hold one document at
// most, for a message at DocumentScan::where ("only one YAML document is
// allowed"); empty for kNone and kOne.
absl::string_view DocumentProblem(Documents documents);

}  // namespace lienthong::yaml

#endif  // LIENTHONG_GATEWAY_YAML_YAML_DOCUMENTS_H_
