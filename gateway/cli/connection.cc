#include "gateway/cli/connection.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "gateway/cli/read_file.h"
#include "gateway/cli/version.h"
#include "gateway/status/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace lienthong::cli {
namespace {

// A day: longer is a mistake, and far longer overflows the clock.
constexpr double kMaxTimeoutSeconds = 86400;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// Never prompts on the terminal for a passphrase: gRPC cannot use an
// encrypted key anyway, so it is reported as unusable.
int NoPassphrase(char*, int, int, void*) { return -1; }

absl::Status FileError(absl::string_view option, absl::string_view file,
                       absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat(option, " ", file, ": ", why));
}

absl::StatusOr<std::string> ReadFile(absl::string_view option,
                                     const std::string& file) {
  absl::StatusOr<std::string> contents = ReadFileAtMost(file, kMaxPemFileBytes);
  if (!contents.ok()) {
    return FileError(option, file, contents.status().message());
  }
  return contents;
}

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509Ptr FirstCertificate(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  return cert;
}

absl::Status CheckCa(const std::string& file, const std::string& pem) {
  if (FirstCertificate(pem) == nullptr) {
    return FileError("--ca", file, "no PEM certificate in the file");
  }
  return absl::OkStatus();
}

absl::Status CheckCertAndKey(const std::string& cert_file,
                             const std::string& cert_pem,
                             const std::string& key_file,
                             const std::string& key_pem) {
  X509Ptr cert = FirstCertificate(cert_pem);
  if (cert == nullptr) {
    return FileError("--cert", cert_file, "no PEM certificate in the file");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return FileError("--cert", cert_file, "the certificate has expired");
  }
  BioPtr bio = MemoryBio(key_pem);
  PkeyPtr key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return FileError("--key", key_file,
                     "no unencrypted PEM private key in the file");
  }
  const int matches = X509_check_private_key(cert.get(), key.get());
  ERR_clear_error();
  if (matches != 1) {
    return FileError(
        "--key", key_file,
        absl::StrCat("does not belong to the certificate in ", cert_file));
  }
  return absl::OkStatus();
}

absl::Status CheckOptions(const ConnectionOptions& options) {
  if (options.server.empty()) {
    return absl::InvalidArgumentError(
        "--server is empty; give host:port or set LIENTHONG_SERVER");
  }
  if (options.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--cert is required (or set LIENTHONG_CERT): the gateway accepts "
        "only mutual TLS");
  }
  if (options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--key is required (or set LIENTHONG_KEY): the gateway accepts only "
        "mutual TLS");
  }
  if (!(options.timeout_seconds > 0 &&
        options.timeout_seconds <= kMaxTimeoutSeconds)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--timeout ", options.timeout_seconds,
        ": must be more than 0 and at most ", kMaxTimeoutSeconds, " seconds"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddConnectionOptions(CLI::App& command, ConnectionOptions& options) {
  CLI::Option_group* group = command.add_option_group(
      "Connection", "How to reach the gateway (always mutual TLS)");
  group->add_option("--server", options.server, "Gateway address, host:port")
      ->type_name("HOST:PORT")
      ->envname("LIENTHONG_SERVER")
      ->capture_default_str();
  group
      ->add_option("--ca", options.ca_file,
                   "PEM CA certificates that sign the gateway's certificate "
                   "(default: gRPC's trusted roots)")
      ->type_name("FILE")
      ->envname("LIENTHONG_CA");
  group->add_option("--cert", options.cert_file, "PEM client certificate")
      ->type_name("FILE")
      ->envname("LIENTHONG_CERT");
  group
      ->add_option("--key", options.key_file,
                   "PEM private key of the client certificate (unencrypted)")
      ->type_name("FILE")
      ->envname("LIENTHONG_KEY");
  group
      ->add_option("--server-name", options.server_name,
                   "Name to verify the gateway's certificate against "
                   "(default: the host part of --server)")
      ->type_name("NAME");
  group
      ->add_option("--timeout", options.timeout_seconds,
                   "Deadline of the call, in seconds")
      ->type_name("SECONDS")
      ->capture_default_str();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& options) {
  LIENTHONG_RETURN_IF_ERROR(CheckOptions(options));

  grpc::SslCredentialsOptions tls;
  if (!options.ca_file.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(std::string ca,
                               ReadFile("--ca", options.ca_file));
    LIENTHONG_RETURN_IF_ERROR(CheckCa(options.ca_file, ca));
    tls.pem_root_certs = std::move(ca);
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::string cert,
                             ReadFile("--cert", options.cert_file));
  LIENTHONG_ASSIGN_OR_RETURN(std::string key,
                             ReadFile("--key", options.key_file));
  LIENTHONG_RETURN_IF_ERROR(
      CheckCertAndKey(options.cert_file, cert, options.key_file, key));
  tls.pem_cert_chain = std::move(cert);
  tls.pem_private_key = std::move(key);

  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(absl::StrCat("lienthong-cli/", kVersion));
  // A stream that may stay silent for days (bundle watch) notices a gateway
  // that is gone: a ping after 90 s without traffic, the connection given
  // up 20 s later. Over the gateway's least ping interval (60 s by default;
  // closer pings would be struck), and not capped at two without data.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 90 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  if (!options.server_name.empty()) {
    args.SetSslTargetNameOverride(options.server_name);
  }
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(tls),
                                   args);
}

void SetDeadline(const ConnectionOptions& options,
                 grpc::ClientContext& context) {
  const double seconds =
      std::min(std::max(options.timeout_seconds, 0.0), kMaxTimeoutSeconds);
  context.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(seconds)));
}

absl::Duration ReconnectDelay(absl::Duration first, int failures) {
  constexpr absl::Duration kLongest = absl::Seconds(30);
  absl::Duration delay = first;
  for (int i = 1; i < failures && delay < kLongest; ++i) delay *= 2;
  return std::min(delay, kLongest);
}

std::string LostStreamLine(absl::string_view stream, const grpc::Status& status,
                           absl::Duration delay) {
  return absl::StrCat("lienthong: lost ", stream, " (",
                      status.ok()
                          ? std::string("closed early")
                          : absl::StrCat(GrpcCodeName(status.error_code()),
                                         ": ", OneLine(status.error_message())),
                      "); reconnecting in ", FormatElapsed(delay), "\n");
}

}  // namespace lienthong::cli
