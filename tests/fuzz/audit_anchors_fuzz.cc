// Reading the audit anchor file (gateway/audit/anchor.h): `lienthong audit
// verify --anchors` reads it whole (ReadAnchorFile), the gateway's start-up
// check only its latest checkpoint (ReadLastAnchor, a line at a time).
// Whatever the file holds, neither crashes, both accept or refuse it alike,
// and the start-up check sees the latest of what the whole file holds: the
// checkpoint with the highest index (the last of equals) wherever its line
// is, or none when it has none. The inputs are either a whole file, or the
// real anchor lines of a log signed at start-up, edited (line_edits.h:
// lines dropped, repeated, swapped, so older lines can follow newer), with
// bytes after them, repeated past 64 KiB when the second byte says so.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/audit/anchor.h"
#include "gateway/audit/audit_log.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/line_edits.h"
#include "tests/gateway/audit/test_util.h"

namespace {

using lienthong::audit::AuditLog;
using lienthong::audit::ReadAnchorFile;
using lienthong::audit::ReadLastAnchor;
using lienthong::audit::testutil::ScratchDir;

// A real anchor file's lines, made once.
struct Fixture {
  ScratchDir dir;
  std::vector<std::string> lines;
  std::string input;  // where each input is written

  Fixture() {
    AuditLog::Options options = lienthong::audit::testutil::TestOptions(dir);
    options.checkpoint_every = 5;
    auto log = AuditLog::Open(options);
    if (!log.ok() ||
        !lienthong::audit::testutil::AppendMany(**log, 1, 20).ok() ||
        !(*log)->Close().ok()) {
      Die("cannot write the audit log");
    }
    std::ifstream in(options.anchor_file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() < 4) Die("the anchor file is short");
    input = dir.File("input.jsonl");
  }

  static void Die(const char* what) {
    std::fprintf(stderr, "audit_anchors_fuzz: %s\n", what);
    std::abort();
  }

  // Reads `content` both ways and checks that they agree.
  void Check(const std::string& content) {
    {
      std::ofstream out(input, std::ios::trunc | std::ios::binary);
      out << content;
    }
    const auto whole = ReadAnchorFile(input);
    const auto last = ReadLastAnchor(input);
    FUZZ_CHECK(last.ok() == whole.ok());
    if (!whole.ok()) return;
    FUZZ_CHECK(last->has_value() == !whole->empty());
    if (whole->empty()) return;
    const lienthong::v1::AuditCheckpoint* latest = &whole->front();
    for (const lienthong::v1::AuditCheckpoint& c : *whole) {
      if (c.index() >= latest->index()) latest = &c;
    }
    FUZZ_CHECK((*last)->SerializeAsString() == latest->SerializeAsString());
  }
};

Fixture& TheFixture() {
  static Fixture fixture;  // its folder is removed at exit
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& fixture = TheFixture();
  // The first byte picks: even, the rest is the file; odd, the second byte
  // gives the number of edits (line_edits.h; low 3 bits) and whether what
  // follows the lines is repeated past 64 KiB (high bit), then come the
  // edits, and the rest follows the lines.
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    fixture.Check(std::string(reinterpret_cast<const char*>(data) + 1,
                              size - 1));
    return 0;
  }
  if (size < 2) return 0;
  std::vector<std::string> lines = fixture.lines;
  const size_t at = EditLines(lines, data, size, 2, data[1] & 7);
  std::string content;
  for (const std::string& line : lines) content += line + "\n";
  const std::string after(reinterpret_cast<const char*>(data) + at,
                          size - at);
  if ((data[1] & 0x80) != 0 && !after.empty()) {
    while (content.size() < (80u << 10)) content += after;
  } else {
    content += after;
  }
  fixture.Check(content);
  return 0;
}
