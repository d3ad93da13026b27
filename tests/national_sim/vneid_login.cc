#include "tests/national_sim/vneid_login.h"

#include <future>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "adapters/vneid_identity/token_exchange.h"

namespace lienthong::sim {
namespace {

using adapters::vneid::FormEncode;

// The value of query parameter `name` in `url`, or "" (no decoding needed
// for the simulator's codes and error names).
std::string QueryParam(absl::string_view url, absl::string_view name) {
  size_t q = url.find('?');
  if (q == absl::string_view::npos) return "";
  for (absl::string_view pair : absl::StrSplit(url.substr(q + 1), '&')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first == name) return std::string(kv.second);
  }
  return "";
}

}  // namespace

std::string VneidRealmUrl(const std::string& sim_base_url,
                          const std::string& realm) {
  return absl::StrCat(sim_base_url, "/vneid/realms/", realm);
}

absl::StatusOr<adapters::HttpResponse> SendAndWait(
    adapters::HttpClient& http, adapters::HttpRequest request) {
  auto promise =
      std::make_shared<std::promise<absl::StatusOr<adapters::HttpResponse>>>();
  std::future<absl::StatusOr<adapters::HttpResponse>> answer =
      promise->get_future();
  absl::Time deadline = request.deadline;
  http.Send(std::move(request),
            [promise](absl::StatusOr<adapters::HttpResponse> r) {
              promise->set_value(std::move(r));
            });
  absl::Duration wait = deadline == absl::InfiniteFuture()
                            ? absl::Seconds(60)
                            : deadline - absl::Now() + absl::Seconds(5);
  if (answer.wait_for(absl::ToChronoSeconds(wait)) !=
      std::future_status::ready) {
    return absl::DeadlineExceededError("test: no HTTP answer");
  }
  return answer.get();
}

absl::StatusOr<std::string> VneidAuthorize(adapters::HttpClient& http,
                                           const VneidLogin& login) {
  std::string query = absl::StrCat(
      "client_id=", FormEncode(login.client_id),
      "&redirect_uri=", FormEncode(login.redirect_uri),
      "&response_type=code&scope=openid%20profile&state=",
      FormEncode(login.state), "&login_hint=", FormEncode(login.citizen_id));
  if (!login.nonce.empty())
    absl::StrAppend(&query, "&nonce=", FormEncode(login.nonce));
  if (!login.acr_values.empty()) {
    absl::StrAppend(&query, "&acr_values=", FormEncode(login.acr_values));
  }
  if (!login.code_challenge.empty()) {
    absl::StrAppend(&query,
                    "&code_challenge=", FormEncode(login.code_challenge),
                    "&code_challenge_method=S256");
  }
  adapters::HttpRequest request;
  request.method = "GET";
  request.url =
      absl::StrCat(login.realm_url, "/protocol/openid-connect/auth?", query);
  request.ca_file = login.ca_file;
  request.deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<adapters::HttpResponse> response =
      SendAndWait(http, std::move(request));
  if (!response.ok()) return response.status();
  std::string location(response->Header("location"));
  if (response->status != 302 || location.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no redirect: HTTP ", response->status));
  }
  if (std::string error = QueryParam(location, "error"); !error.empty()) {
    return absl::FailedPreconditionError(error);
  }
  std::string code = QueryParam(location, "code");
  if (code.empty()) return absl::FailedPreconditionError("no code");
  return code;
}

}  // namespace lienthong::sim
