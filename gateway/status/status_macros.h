// LIENTHONG_RETURN_IF_ERROR and LIENTHONG_ASSIGN_OR_RETURN: Abseil 20220623
// ships no status macros, so the project defines them once, here.
#ifndef LIENTHONG_GATEWAY_STATUS_STATUS_MACROS_H_
#define LIENTHONG_GATEWAY_STATUS_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// when it is not OK.
#define LIENTHONG_RETURN_IF_ERROR(expr)                 \
  do {                                                  \
    ::absl::Status lienthong_status_ = (expr);          \
    if (!lienthong_status_.ok()) return lienthong_status_; \
  } while (false)

#define LIENTHONG_STATUS_CONCAT_INNER_(a, b) a##b
#define LIENTHONG_STATUS_CONCAT_(a, b) LIENTHONG_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK,
// otherwise moves the value into `lhs`, which may be a declaration:
//   LIENTHONG_ASSIGN_OR_RETURN(auto x, MakeX());
#define LIENTHONG_ASSIGN_OR_RETURN(lhs, rexpr)                               \
  LIENTHONG_ASSIGN_OR_RETURN_IMPL_(                                          \
      LIENTHONG_STATUS_CONCAT_(lienthong_statusor_, __LINE__), lhs, rexpr)

#define LIENTHONG_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                     \
  if (!statusor.ok()) return std::move(statusor).status();     \
  lhs = std::move(statusor).value()

#endif  // LIENTHONG_GATEWAY_STATUS_STATUS_MACROS_H_
