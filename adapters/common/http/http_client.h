// HttpClient: the asynchronous HTTPS client adapters use to reach national
// systems, and CurlHttpClient, its implementation on libcurl's multi
// interface. One event thread drives every transfer: calls in flight cost
// memory and a socket, never a thread. Connections are kept and reused.
#ifndef LIENTHONG_ADAPTERS_COMMON_HTTP_HTTP_CLIENT_H_
#define LIENTHONG_ADAPTERS_COMMON_HTTP_HTTP_CLIENT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::adapters {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  // Whole header lines, "Name: value".
  std::vector<std::string> headers;
  std::string body;
  // The transfer is abandoned with DEADLINE_EXCEEDED at this time.
  absl::Time deadline = absl::InfiniteFuture();
  // CA bundle the server's certificate must chain to; empty uses the system
  // store. The server name is always verified.
  std::string ca_file;
  // Optional client certificate for mutual TLS; its key in client_key_file,
  // or in the certificate's file when that is empty.
  std::string client_cert_file;
  std::string client_key_file;
  // The request must reach the server at most once (it is not idempotent:
  // an OAuth authorization code redeemed). libcurl sends a request again,
  // POST included, on a new connection when a kept-alive one it reused
  // closes before any answer; so such a request goes on a connection of
  // its own, closed after it (one more TLS handshake).
  bool send_once = false;
};

struct HttpResponse {
  long status = 0;
  // Header names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of header `name` (lower case), or empty.
  absl::string_view Header(absl::string_view name) const;
};

using HttpCallback =
    absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;

// The failure of a transfer whose response body went over the client's
// limit, `max_bytes`: UNAVAILABLE "upstream reply too large", carrying the
// limit as a payload under kReplyTooLargeTypeUrl so callers can tell it from
// a connection failure (sending again gets the same reply).
inline constexpr absl::string_view kReplyTooLargeTypeUrl =
    "lienthong/http-reply-too-large";
absl::Status ReplyTooLargeError(size_t max_bytes);

// The limit a ReplyTooLargeError() failure names; nullopt for any other
// status.
std::optional<size_t> ReplyTooLargeLimit(const absl::Status& status);

// "a reply over `limit` bytes (the HTTP client's limit)", for an adapter's
// message naming its system ("population database sent ...").
std::string ReplyTooLargeText(size_t limit);

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Starts the transfer and returns at once. `done` runs exactly once with
  // the response (any HTTP status) or with DEADLINE_EXCEEDED (deadline
  // passed), UNAVAILABLE (connection or TLS failure, a connect timeout
  // included, or ReplyTooLargeError()), INTERNAL (the transfer could not be
  // started) or CANCELLED (client shutting down). It runs on the client's
  // event thread, except that a request sent once shutdown has begun is
  // refused on the caller's thread before Send() returns. `done` must not
  // block. Thread-safe.
  virtual void Send(HttpRequest request, HttpCallback done) = 0;
};

class CurlHttpClient final : public HttpClient {
 public:
  struct Options {
    // Largest response body accepted; larger ones fail with
    // ReplyTooLargeError().
    size_t max_response_bytes = 4 << 20;
    // Setting up the connection (TCP and TLS) takes at most this; if it runs
    // out before the deadline, the transfer fails with UNAVAILABLE.
    absl::Duration connect_timeout = absl::Seconds(5);
    // Idle connections kept for reuse.
    int max_cached_connections = 4096;
    // Connections open to one host:port at once; transfers beyond it queue
    // for a free connection (their deadlines still run). 0: no limit.
    int max_connections_per_host = 1024;
  };

  // Starts the event thread. Fails with INTERNAL if libcurl or the thread
  // cannot be set up (e.g. out of file descriptors).
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> Create(
      const Options& options);
  // Fails transfers still in flight with CANCELLED and joins the thread.
  ~CurlHttpClient() override;

  void Send(HttpRequest request, HttpCallback done) override;

  // Transfers started and not yet finished. Thread-safe.
  int in_flight() const;

  class Impl;

 private:
  explicit CurlHttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_COMMON_HTTP_HTTP_CLIENT_H_
