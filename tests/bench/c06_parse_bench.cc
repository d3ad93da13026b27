// Benchmark of the population database's lookup reply reader
// (adapters/c06_population/lookup_response.h), the SOAP parse every route-5
// lookup does on the gateway's curl thread: prints microseconds per reply.
// A program that prints figures, not a test.
//
//   c06_parse_bench [--calls=N] [--reply=FILE]
//
// FILE is a SOAP reply (default: the fuzz seed with every field,
// tests/fuzz/corpus/c06_soap/lookup-every-field.xml, from "<?xml" on).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "adapters/c06_population/lookup_response.h"

int main(int argc, char** argv) {
  int calls = 100000;
  std::string path =
      LIENTHONG_SOURCE_DIR "/tests/fuzz/corpus/c06_soap/lookup-every-field.xml";
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--calls=") &&
        absl::SimpleAtoi(arg, &calls) && calls > 0) {
      continue;
    }
    if (absl::ConsumePrefix(&arg, "--reply=") && !arg.empty()) {
      path = std::string(arg);
      continue;
    }
    std::fprintf(stderr, "usage: %s [--calls=N] [--reply=FILE]\n", argv[0]);
    return 2;
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  const size_t start = text.find("<?xml");
  if (!file || start == std::string::npos) {
    std::fprintf(stderr, "cannot read a SOAP reply from '%s'\n", path.c_str());
    return 2;
  }
  const std::string body = text.substr(start);
  const std::string asked = "026092001234";
  size_t fields = 0;
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    auto reply =
        lienthong::adapters::c06::ParseLookupResponse(200, body, asked);
    if (!reply.ok() || !reply->found) {
      std::fprintf(stderr, "the reply does not parse to a citizen: %s\n",
                   reply.status().ToString().c_str());
      return 1;
    }
    fields += reply->citizen.ByteSizeLong();
  }
  const std::chrono::duration<double, std::micro> elapsed =
      std::chrono::steady_clock::now() - begin;
  std::printf(
      "ParseLookupResponse: %.2f us per reply (%d replies of %zu "
      "bytes, %zu bytes of records out)\n",
      elapsed.count() / calls, calls, body.size(), fields);
  return 0;
}
