// The National Public Service Portal's JSON answers
// (adapters/dvcqg_portal): any status and body give an answer or a
// retriable UNAVAILABLE, a kept message stays within kMaxReasonBytes, and
// sign-in answers and outcomes are read without a crash.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/dvcqg_portal/portal_response.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/http_reply_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::optional<HttpReplyInput> input = SplitHttpReplyInput(data, size);
  if (!input.has_value()) return 0;
  const long http_status = input->status;
  const std::string& retry_after = input->retry_after;
  const std::string& body = input->body;
  using namespace lienthong::adapters::dvcqg;
  const std::vector<std::string> session_codes = {"401", "-401"};
  const auto answer =
      ParsePortalAnswer(http_status, body, retry_after, session_codes);
  if (answer.ok()) {
    FUZZ_CHECK(answer->message.size() <= kMaxReasonBytes);
    if (answer->kind != PortalAnswer::Kind::kSessionRefused) {
      for (bool create : {false, true}) {
        const auto outcome = ToOutcome(*answer, create);
        if (!outcome.ok()) {
          FUZZ_CHECK(outcome.status().code() == absl::StatusCode::kUnavailable);
        }
      }
    }
  } else {
    FUZZ_CHECK(answer.status().code() == absl::StatusCode::kUnavailable);
    FUZZ_CHECK(answer.status().message().size() < 1024);
  }
  const auto session = ParseSignIn(http_status, body, retry_after);
  if (session.ok()) {
    FUZZ_CHECK(!session->empty() && session->size() <= 4096);
  } else {
    FUZZ_CHECK(session.status().code() == absl::StatusCode::kUnavailable);
  }
  return 0;
}
