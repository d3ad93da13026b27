// Calls gRPC would answer before any of the gateway's handlers runs, so
// that they too get an access-log line, a metric and an audit record: a
// method no service has (served by UnknownMethodService), and a request
// body that cannot be parsed as the method's request (seen by the
// interceptor of NewUnparsableBodyInterceptorFactory, which also turns
// gRPC's INTERNAL into INVALID_ARGUMENT).
#ifndef LIENTHONG_GATEWAY_SERVER_CALL_ACCOUNTING_H_
#define LIENTHONG_GATEWAY_SERVER_CALL_ACCOUNTING_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace lienthong::server {

// Records a call refused with `status` before any handler ran and returns
// the status to answer: `status`, or RESOURCE_EXHAUSTED when the caller is
// over its rate limit (such calls count against it too). `method` is the
// full method name without the leading '/' ("lienthong.v1.X/Y"), or
// kUnknownMethod. Called on a gRPC thread; must not block.
using PreHandlerRefusal = std::function<absl::Status(
    const grpc::ServerContextBase& ctx, absl::string_view method,
    const absl::Status& status)>;

// The method name recorded (log, metric label, audit) for calls of methods
// no service has; the name the caller asked for is not a label.
inline constexpr absl::string_view kUnknownMethod = "(unknown method)";

// Answers every call of a method no registered service has with
// UNIMPLEMENTED "unknown method" (or what `account` returns instead).
// Thread-safe.
class UnknownMethodService final : public grpc::CallbackGenericService {
 public:
  explicit UnknownMethodService(PreHandlerRefusal account)
      : account_(std::move(account)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* ctx) override;

 private:
  const PreHandlerRefusal account_;
};

// Returns a factory of interceptors that, for a unary or server-streaming
// call whose request body gRPC could not parse (random bytes, a truncated
// message, a wrong wire type, invalid UTF-8 in a string field), answer
// INVALID_ARGUMENT "request body is not a valid <method> request" instead
// of gRPC's INTERNAL (or what `account`, told of the call, returns
// instead). Other calls pass untouched.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUnparsableBodyInterceptorFactory(PreHandlerRefusal account);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_CALL_ACCOUNTING_H_
