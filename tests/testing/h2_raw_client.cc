#include "tests/testing/h2_raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"

namespace lienthong::testing {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool UsePem(SSL_CTX* ctx, const TlsClientCredentials& credentials) {
  BIO* ca = BIO_new_mem_buf(credentials.ca_pem.data(),
                            static_cast<int>(credentials.ca_pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  while (X509* cert = PEM_read_bio_X509(ca, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  BIO_free(ca);
  ERR_clear_error();
  if (credentials.cert_pem.empty()) return true;
  BIO* cert_bio = BIO_new_mem_buf(credentials.cert_pem.data(),
                                  static_cast<int>(credentials.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(credentials.key_pem.data(),
                                 static_cast<int>(credentials.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  const bool ok = cert != nullptr && key != nullptr &&
                  SSL_CTX_use_certificate(ctx, cert) == 1 &&
                  SSL_CTX_use_PrivateKey(ctx, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

void PutHpackLength(std::string* out, size_t length) {
  // 7-bit prefix integer, H (Huffman) bit clear (RFC 7541 5.1).
  if (length < 127) {
    out->push_back(static_cast<char>(length));
    return;
  }
  out->push_back(127);
  length -= 127;
  while (length >= 128) {
    out->push_back(static_cast<char>((length % 128) | 0x80));
    length /= 128;
  }
  out->push_back(static_cast<char>(length));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RawH2Connection>> RawH2Connection::Connect(
    int port, const TlsClientCredentials& credentials, absl::Duration timeout) {
  // Writing to a connection the server closed must fail, not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<RawH2Connection> conn(new RawH2Connection());
  conn->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (conn->fd_ < 0) return absl::UnavailableError("socket() failed");
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(conn->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(conn->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(conn->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(conn->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: errno ", errno));
  }
  conn->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(conn->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(conn->ctx_, SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(conn->ctx_, kAlpn, sizeof(kAlpn));
  if (!UsePem(conn->ctx_, credentials)) {
    return absl::InvalidArgumentError("unusable client certificate or key");
  }
  conn->ssl_ = SSL_new(conn->ctx_);
  SSL_set_fd(conn->ssl_, conn->fd_);
  if (credentials.resume != nullptr) SSL_set_session(conn->ssl_, credentials.resume);
  SSL_set_tlsext_host_name(conn->ssl_, "localhost");
  if (SSL_connect(conn->ssl_) != 1) {
    ERR_clear_error();
    return absl::UnavailableError("TLS handshake failed");
  }
  return conn;
}

RawH2Connection::~RawH2Connection() {
  if (ssl_ != nullptr) {
    // A connection freed without close_notify marks its session as not
    // resumable (OpenSSL), which TakeSession's caller may want.
    SSL_shutdown(ssl_);
    ERR_clear_error();
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

absl::Status RawH2Connection::SendPreface() {
  pending_.append(kPreface, sizeof(kPreface) - 1);
  Queue(kH2Settings, 0, 0, "");
  return Flush();
}

void RawH2Connection::Queue(uint8_t type, uint8_t flags, uint32_t stream,
                            absl::string_view payload) {
  const size_t length = payload.size();
  const char header[9] = {
      static_cast<char>((length >> 16) & 0xff),
      static_cast<char>((length >> 8) & 0xff),
      static_cast<char>(length & 0xff),
      static_cast<char>(type),
      static_cast<char>(flags),
      static_cast<char>((stream >> 24) & 0x7f),
      static_cast<char>((stream >> 16) & 0xff),
      static_cast<char>((stream >> 8) & 0xff),
      static_cast<char>(stream & 0xff)};
  pending_.append(header, sizeof(header));
  pending_.append(payload.data(), payload.size());
}

absl::Status RawH2Connection::Flush() {
  size_t done = 0;
  while (done < pending_.size()) {
    const int chunk =
        static_cast<int>(std::min<size_t>(pending_.size() - done, 1 << 20));
    const int n = SSL_write(ssl_, pending_.data() + done, chunk);
    if (n <= 0) {
      const int error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      pending_.erase(0, done);
      bytes_sent_ += done;
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
        return absl::DeadlineExceededError("the server stopped reading");
      }
      return absl::UnavailableError("connection closed while writing");
    }
    done += static_cast<size_t>(n);
  }
  bytes_sent_ += done;
  pending_.clear();
  return absl::OkStatus();
}

absl::Status RawH2Connection::ReadExactly(char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const int n = SSL_read(ssl_, out + done, static_cast<int>(size - done));
    if (n <= 0) {
      const int error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        return absl::DeadlineExceededError("nothing from the server");
      }
      return absl::UnavailableError("connection closed by the server");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<H2Frame> RawH2Connection::ReadFrame() {
  unsigned char header[9];
  absl::Status status = ReadExactly(reinterpret_cast<char*>(header), 9);
  if (!status.ok()) return status;
  H2Frame frame;
  const size_t length = (size_t{header[0]} << 16) | (size_t{header[1]} << 8) |
                        header[2];
  frame.type = header[3];
  frame.flags = header[4];
  frame.stream = ((uint32_t{header[5]} & 0x7f) << 24) |
                 (uint32_t{header[6]} << 16) | (uint32_t{header[7]} << 8) |
                 header[8];
  frame.payload.resize(length);
  status = ReadExactly(frame.payload.data(), length);
  if (!status.ok()) return status;
  return frame;
}

absl::StatusOr<H2Frame> RawH2Connection::ReadUntil(uint8_t type) {
  for (;;) {
    auto frame = ReadFrame();
    if (!frame.ok() || frame->type == type) return frame;
  }
}

absl::StatusOr<int> RawH2Connection::DrainAvailable() {
  int frames = 0;
  for (;;) {
    if (SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return frames;
    }
    auto frame = ReadFrame();
    if (absl::IsUnavailable(frame.status())) return frame.status();
    if (!frame.ok()) return frames;
    ++frames;
  }
}

bool RawH2Connection::resumed() const { return SSL_session_reused(ssl_) == 1; }

SSL_SESSION* RawH2Connection::TakeSession() { return SSL_get1_session(ssl_); }

std::pair<int, bool> RawH2Connection::DrainUntilQuiet() {
  int frames = 0;
  for (;;) {
    auto frame = ReadFrame();
    if (frame.ok()) {
      ++frames;
      continue;
    }
    return {frames, absl::IsUnavailable(frame.status())};
  }
}

std::string RawH2Connection::HeaderBlock(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string block;
  for (const auto& [name, value] : headers) {
    block.push_back(0x00);  // literal without indexing, new name
    PutHpackLength(&block, name.size());
    block += name;
    PutHpackLength(&block, value.size());
    block += value;
  }
  return block;
}

std::string RawH2Connection::GrpcRequestHeaders(absl::string_view path) {
  return HeaderBlock({{":method", "POST"},
                      {":scheme", "https"},
                      {":path", std::string(path)},
                      {":authority", "localhost"},
                      {"content-type", "application/grpc"},
                      {"te", "trailers"}});
}

std::string RawH2Connection::RstPayload(uint32_t error_code) {
  return std::string{static_cast<char>(error_code >> 24),
                     static_cast<char>((error_code >> 16) & 0xff),
                     static_cast<char>((error_code >> 8) & 0xff),
                     static_cast<char>(error_code & 0xff)};
}

}  // namespace lienthong::testing
