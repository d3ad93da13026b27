#include "adapters/common/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace lienthong::adapters {

absl::string_view HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

absl::Status ReplyTooLargeError(size_t max_bytes) {
  absl::Status status = absl::UnavailableError("upstream reply too large");
  status.SetPayload(kReplyTooLargeTypeUrl, absl::Cord(absl::StrCat(max_bytes)));
  return status;
}

std::optional<size_t> ReplyTooLargeLimit(const absl::Status& status) {
  auto payload = status.GetPayload(kReplyTooLargeTypeUrl);
  size_t max_bytes = 0;
  if (status.ok() || !payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &max_bytes)) {
    return std::nullopt;
  }
  return max_bytes;
}

std::string ReplyTooLargeText(size_t limit) {
  return absl::StrCat("a reply over ", limit,
                      " bytes (the HTTP client's limit)");
}

namespace {

// One transfer: the easy handle with everything it points into.
struct Transfer {
  HttpRequest request;
  HttpCallback done;
  HttpResponse response;
  curl_slist* header_list = nullptr;
  CURL* easy = nullptr;
  size_t max_bytes = 0;
  bool too_large = false;
  // The connect timeout ends before the deadline does.
  bool connect_timeout_first = false;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (header_list != nullptr) curl_slist_free_all(header_list);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->response.body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // makes libcurl abort the transfer
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  absl::string_view line(data, n);
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    t->response.headers.emplace_back(
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  } else if (absl::StartsWith(line, "HTTP/")) {
    t->response.headers.clear();  // a new response (after 100-continue)
  }
  return n;
}

// Whether a transfer that timed out ran out of its connect timeout, not of
// its deadline: the connect timeout came first, and libcurl had not got as
// far as sending the request (CURLINFO_PRETRANSFER_TIME_T is 0 until it has;
// CURLINFO_CONNECT_TIME_T will not do, as libcurl 7.88 leaves it 0 on a
// reused connection too).
bool TimedOutConnecting(const Transfer& t) {
  curl_off_t pretransfer_us = 0;
  return t.connect_timeout_first &&
         curl_easy_getinfo(t.easy, CURLINFO_PRETRANSFER_TIME_T,
                           &pretransfer_us) == CURLE_OK &&
         pretransfer_us == 0;
}

absl::Status TransferError(const Transfer& t, CURLcode code) {
  if (t.too_large) return ReplyTooLargeError(t.max_bytes);
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return absl::UnavailableError(
          absl::StrCat("TLS to upstream failed: ", curl_easy_strerror(code)));
    case CURLE_OPERATION_TIMEDOUT:
      if (!TimedOutConnecting(t)) {
        return absl::DeadlineExceededError("upstream did not answer in time");
      }
      // The system did not take the connection (TCP and TLS) in time: a
      // connection failure like a refused one, which adapters retry, with
      // time left to do so.
      [[fallthrough]];
    default:
      return absl::UnavailableError(
          absl::StrCat("upstream connection failed: ", curl_easy_strerror(code)));
  }
}

}  // namespace

class CurlHttpClient::Impl {
 public:
  explicit Impl(const Options& options) : options_(options) {}

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    if (multi_ != nullptr) curl_multi_wakeup(multi_);
    if (thread_.joinable()) thread_.join();
    for (CURL* easy : idle_) curl_easy_cleanup(easy);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
  }

  absl::Status Start() {
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      return absl::InternalError("cannot start the HTTP client: curl_multi_init");
    }
    // libcurl starts without its wake-up channel when it has no descriptor
    // for it; Send() could then not wake the thread (calls would wait for
    // the poll's 1 s timeout). The wake-up stays pending until the first poll.
    if (curl_multi_wakeup(multi_) != CURLM_OK) {
      return absl::InternalError(
          "cannot start the HTTP client: no descriptor for libcurl's wake-up "
          "channel");
    }
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(options_.max_cached_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_connections_per_host));
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error& e) {
      return absl::InternalError(
          absl::StrCat("cannot start the HTTP client: thread: ", e.what()));
    }
    return absl::OkStatus();
  }

  void Send(HttpRequest request, HttpCallback done) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->done = std::move(done);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        // Only the first of a batch wakes the thread: it takes the whole
        // queue before it polls again.
        wake = incoming_.empty();
        incoming_.push_back(std::move(t));
        in_flight_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (t != nullptr) {  // refused: shutting down
      std::move(t->done)(absl::CancelledError("HTTP client shutting down"));
      return;
    }
    if (wake) curl_multi_wakeup(multi_);
  }

  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  void Run() {
    for (;;) {
      std::deque<std::unique_ptr<Transfer>> incoming;
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        incoming.swap(incoming_);
        stopping = stopping_;
      }
      if (stopping) {
        for (auto& t : incoming) Finish(std::move(t), absl::CancelledError("HTTP client shutting down"));
        while (!active_.empty()) {
          auto it = active_.begin();
          std::unique_ptr<Transfer> t(it->second);
          active_.erase(it);
          curl_multi_remove_handle(multi_, t->easy);
          Finish(std::move(t), absl::CancelledError("HTTP client shutting down"));
        }
        return;
      }
      for (auto& t : incoming) Begin(std::move(t));

      int running = 0;
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        auto it = active_.find(easy);
        std::unique_ptr<Transfer> t(it->second);
        active_.erase(it);
        curl_multi_remove_handle(multi_, easy);
        absl::Status status = absl::OkStatus();
        if (code == CURLE_OK) {
          curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->response.status);
        } else {
          status = TransferError(*t, code);
        }
        t->easy = nullptr;
        Recycle(easy);
        Finish(std::move(t), std::move(status));
      }
      EndOverdue();
      // While transfers run, at least every 100 ms, for EndOverdue.
      curl_multi_poll(multi_, nullptr, 0, active_.empty() ? 1000 : 100,
                      nullptr);
    }
  }

  // Ends the transfers whose deadline passed more than a moment ago. libcurl
  // times out a transfer that has a connection itself, at its deadline; one
  // waiting for a connection (the per-host cap) it checks only when a
  // connection comes free (libcurl before 8.8), so it could wait far past
  // its deadline, holding the caller's in-flight slot. Looked at every
  // 100 ms at most: a scan of every transfer per event would cost a
  // thousand in flight dear.
  void EndOverdue() {
    const absl::Time now = absl::Now();
    if (active_.empty() || now < next_overdue_check_) return;
    next_overdue_check_ = now + absl::Milliseconds(100);
    std::vector<CURL*> overdue;
    for (const auto& [easy, t] : active_) {
      if (now > t->request.deadline + absl::Milliseconds(50)) {
        overdue.push_back(easy);
      }
    }
    for (CURL* easy : overdue) {
      auto it = active_.find(easy);
      std::unique_ptr<Transfer> t(it->second);
      active_.erase(it);
      curl_multi_remove_handle(multi_, easy);
      t->easy = nullptr;
      Recycle(easy);
      Finish(std::move(t),
             absl::DeadlineExceededError(
                 "upstream did not answer in time (no connection came free)"));
    }
  }

  void Begin(std::unique_ptr<Transfer> t) {
    absl::Duration left = t->request.deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      Finish(std::move(t), absl::DeadlineExceededError(
                               "deadline passed before the upstream call"));
      return;
    }
    CURL* easy = TakeEasy();
    if (easy == nullptr) {
      Finish(std::move(t), absl::InternalError("curl_easy_init failed"));
      return;
    }
    t->easy = easy;
    t->max_bytes = options_.max_response_bytes;
    const HttpRequest& r = t->request;
    curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (r.send_once) {
      curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
    if (r.method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(r.body.size()));
    } else if (r.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    for (const std::string& h : r.headers) {
      t->header_list = curl_slist_append(t->header_list, h.c_str());
    }
    // No "Expect: 100-continue" round trip for small SOAP bodies.
    t->header_list = curl_slist_append(t->header_list, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->header_list);
    if (!r.ca_file.empty()) {
      // Only this file: libcurl would also trust its built-in CA folder
      // (/etc/ssl/certs on Debian), so any public CA, or an inspecting
      // proxy's installed system-wide, could stand in for the upstream.
      curl_easy_setopt(easy, CURLOPT_CAINFO, r.ca_file.c_str());
      curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
    }
    if (!r.client_cert_file.empty()) {
      curl_easy_setopt(easy, CURLOPT_SSLCERT, r.client_cert_file.c_str());
      if (!r.client_key_file.empty()) {  // else the key is in the cert file
        curl_easy_setopt(easy, CURLOPT_SSLKEY, r.client_key_file.c_str());
      }
    }
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    long timeout_ms = std::max<long>(1, absl::ToInt64Milliseconds(left));
    long connect_timeout_ms = std::min<long>(
        timeout_ms, absl::ToInt64Milliseconds(options_.connect_timeout));
    t->connect_timeout_first = connect_timeout_ms < timeout_ms;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    if (CURLMcode added = curl_multi_add_handle(multi_, easy);
        added != CURLM_OK) {
      Finish(std::move(t), absl::InternalError(absl::StrCat(
                               "cannot start the upstream call: ",
                               curl_multi_strerror(added))));
      return;
    }
    active_.emplace(easy, t.release());
  }

  // An easy handle for a new transfer: an idle one, reset, or a new one.
  // Reusing handles keeps their buffers (libcurl allocates a 16 KiB download
  // and a 64 KiB upload buffer per handle); event thread only.
  CURL* TakeEasy() {
    if (idle_.empty()) return curl_easy_init();
    CURL* easy = idle_.back();
    idle_.pop_back();
    curl_easy_reset(easy);
    return easy;
  }

  // Keeps a finished transfer's handle (out of the multi handle) for reuse,
  // up to kMaxIdle of them.
  void Recycle(CURL* easy) {
    static constexpr size_t kMaxIdle = 256;
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  void Finish(std::unique_ptr<Transfer> t, absl::Status status) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    HttpCallback done = std::move(t->done);
    if (status.ok()) {
      HttpResponse response = std::move(t->response);
      t.reset();
      std::move(done)(std::move(response));
    } else {
      t.reset();
      std::move(done)(std::move(status));
    }
  }

  const Options options_;
  CURLM* multi_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  bool stopping_ = false;
  std::deque<std::unique_ptr<Transfer>> incoming_;
  std::atomic<int> in_flight_{0};
  // Owned transfers by easy handle; touched only on the event thread.
  std::unordered_map<CURL*, Transfer*> active_;
  absl::Time next_overdue_check_ = absl::InfinitePast();
  // Handles of finished transfers, for reuse; event thread only.
  std::vector<CURL*> idle_;
};

absl::StatusOr<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(
    const Options& options) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return absl::InternalError("curl_global_init failed");
  auto impl = std::make_unique<Impl>(options);
  absl::Status started = impl->Start();
  if (!started.ok()) return started;
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(impl)));
}

CurlHttpClient::CurlHttpClient(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

CurlHttpClient::~CurlHttpClient() = default;

void CurlHttpClient::Send(HttpRequest request, HttpCallback done) {
  impl_->Send(std::move(request), std::move(done));
}

int CurlHttpClient::in_flight() const { return impl_->in_flight(); }

}  // namespace lienthong::adapters
