// A raw HTTP/2 client over TLS for tests that must send what a well-behaved
// gRPC client never would: frames written one by one (rapid resets, PING and
// SETTINGS floods, oversized header blocks), and to see exactly what the
// server sends back (or that it sends nothing). HPACK here is only literal
// fields without indexing and without Huffman coding, which every decoder
// must accept.
//
//   auto conn = RawH2Connection::Connect(port, creds, absl::Seconds(5));
//   (*conn)->SendPreface();
//   auto frame = (*conn)->ReadFrame(absl::Seconds(1));  // SETTINGS
#ifndef LIENTHONG_TESTS_TESTING_H2_RAW_CLIENT_H_
#define LIENTHONG_TESTS_TESTING_H2_RAW_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;

namespace lienthong::testing {

// HTTP/2 frame types (RFC 9113 section 6).
enum H2FrameType : uint8_t {
  kH2Data = 0x0,
  kH2Headers = 0x1,
  kH2RstStream = 0x3,
  kH2Settings = 0x4,
  kH2Ping = 0x6,
  kH2GoAway = 0x7,
  kH2WindowUpdate = 0x8,
  kH2Continuation = 0x9,
};
inline constexpr uint8_t kH2FlagEndStream = 0x1;
inline constexpr uint8_t kH2FlagAck = 0x1;
inline constexpr uint8_t kH2FlagEndHeaders = 0x4;

struct H2Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;
};

struct TlsClientCredentials {
  std::string ca_pem;    // the server's certificate must chain to it
  std::string cert_pem;  // empty: present no client certificate
  std::string key_pem;
  // A session of an earlier connection to resume (TLS session ticket),
  // from TakeSession(); not owned; may be null.
  SSL_SESSION* resume = nullptr;
};

class RawH2Connection {
 public:
  // Connects to 127.0.0.1:`port`, makes a TLS handshake offering ALPN "h2"
  // and presenting `credentials`, with `timeout` for every read and write
  // that follows. Fails with UNAVAILABLE when the connection or the
  // handshake fails (as the server refusing the client certificate does).
  static absl::StatusOr<std::unique_ptr<RawH2Connection>> Connect(
      int port, const TlsClientCredentials& credentials,
      absl::Duration timeout);
  ~RawH2Connection();
  RawH2Connection(const RawH2Connection&) = delete;
  RawH2Connection& operator=(const RawH2Connection&) = delete;

  // The client preface and an empty SETTINGS frame, queued and flushed.
  absl::Status SendPreface();
  // Queues one frame; nothing is written before Flush().
  void Queue(uint8_t type, uint8_t flags, uint32_t stream,
             absl::string_view payload);
  // Writes everything queued. Fails with UNAVAILABLE when the connection is
  // closed and DEADLINE_EXCEEDED when the server stops reading.
  absl::Status Flush();
  // Returns the next frame from the server. Fails with UNAVAILABLE when the
  // server closed the connection (NOT an HTTP/2 answer), DEADLINE_EXCEEDED
  // when nothing came within the timeout.
  absl::StatusOr<H2Frame> ReadFrame();
  // Reads frames until `type` arrives (returned), answering nothing.
  absl::StatusOr<H2Frame> ReadUntil(uint8_t type);
  // Reads and discards frames until the connection closes or nothing comes
  // within the timeout; returns how many frames were read and whether it
  // was closed.
  std::pair<int, bool> DrainUntilQuiet();
  // Reads and discards the frames that have already arrived, without
  // waiting; returns how many, or UNAVAILABLE when the server has closed.
  absl::StatusOr<int> DrainAvailable();
  // The bytes sent so far.
  uint64_t bytes_sent() const { return bytes_sent_; }
  // Whether the handshake resumed `credentials.resume`.
  bool resumed() const;
  // The connection's TLS session, for a later Connect to resume; the caller
  // owns it (SSL_SESSION_free). Null when the server issued none.
  SSL_SESSION* TakeSession();

  // An HPACK block of literal header fields without indexing.
  static std::string HeaderBlock(
      const std::vector<std::pair<std::string, std::string>>& headers);
  // The header block of a gRPC request for `path` ("/pkg.Service/Method").
  static std::string GrpcRequestHeaders(absl::string_view path);
  // The payload of a RST_STREAM frame with `error_code` (8 = CANCEL).
  static std::string RstPayload(uint32_t error_code);

 private:
  RawH2Connection() = default;
  absl::Status ReadExactly(char* out, size_t size);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;
  uint64_t bytes_sent_ = 0;
};

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_H2_RAW_CLIENT_H_
