// Benchmark of adapters::FoldName, the ICU folding every population lookup
// applies to the name it sends (Nguyễn Thị Ánh -> NGUYEN THI ANH): prints
// microseconds per call over NFC and NFD names. A program that prints
// figures, not a test.
//
//   fold_name_bench [--calls=N]   (default 300000)
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "adapters/common/text.h"

int main(int argc, char** argv) {
  int calls = 300000;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--calls=") ||
        !absl::SimpleAtoi(arg, &calls) || calls < 1) {
      std::fprintf(stderr, "usage: %s [--calls=N]\n", argv[0]);
      return 2;
    }
  }
  // "Trương Mỹ Ưng" in NFD: base letters followed by combining marks.
  const std::string names[] = {
      "Nguyễn Thị Ánh",
      "Tru\xcc\x9bo\xcc\x9b\xcc\x80ng My\xcc\x83 U\xcc\x9bng",
      "Đặng Đình Đức"};
  size_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    auto folded = lienthong::adapters::FoldName(names[i % 3]);
    if (!folded.ok()) {
      std::fprintf(stderr, "FoldName failed: %s\n",
                   folded.status().ToString().c_str());
      return 1;
    }
    bytes += folded->size();
  }
  const std::chrono::duration<double, std::micro> elapsed =
      std::chrono::steady_clock::now() - start;
  std::printf("FoldName: %.2f us per call (%d calls, %zu bytes out)\n",
              elapsed.count() / calls, calls, bytes);
  return 0;
}
