#include "gateway/server/call_accounting.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/status/grpc_status.h"

namespace lienthong::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RefuseReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit RefuseReactor(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

class UnparsableBodyInterceptor final : public grpc::experimental::Interceptor {
 public:
  UnparsableBodyInterceptor(grpc::experimental::ServerRpcInfo* info,
                            const PreHandlerRefusal* account)
      : info_(info), account_(account) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // A request gRPC could not parse reaches no handler: the message is
    // null here (an unread or ended stream is not a request of these).
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsable_ = true;
    }
    if (unparsable_ && methods->QueryInterceptionHookPoint(
                           InterceptionHookPoints::PRE_SEND_STATUS)) {
      const absl::string_view method =
          absl::StripPrefix(absl::string_view(info_->method()), "/");
      const absl::string_view name = method.substr(method.rfind('/') + 1);
      const absl::Status status = absl::InvalidArgumentError(absl::StrCat(
          "request body is not a valid ", name, " request"));
      methods->ModifySendStatus(
          ToGrpcStatus((*account_)(*info_->server_context(), method, status)));
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const PreHandlerRefusal* const account_;
  bool unparsable_ = false;
};

class UnparsableBodyInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit UnparsableBodyInterceptorFactory(PreHandlerRefusal account)
      : account_(std::move(account)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) {
      return nullptr;
    }
    return new UnparsableBodyInterceptor(info, &account_);
  }

 private:
  const PreHandlerRefusal account_;
};

}  // namespace

grpc::ServerGenericBidiReactor* UnknownMethodService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return new RefuseReactor(account_(
      *ctx, kUnknownMethod, absl::UnimplementedError("unknown method")));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUnparsableBodyInterceptorFactory(PreHandlerRefusal account) {
  return std::make_unique<UnparsableBodyInterceptorFactory>(std::move(account));
}

}  // namespace lienthong::server
