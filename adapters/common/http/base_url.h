// The rules for a national system's base URL in an adapter's config, and
// for the paths the adapter appends to it.
#ifndef LIENTHONG_ADAPTERS_COMMON_HTTP_BASE_URL_H_
#define LIENTHONG_ADAPTERS_COMMON_HTTP_BASE_URL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters {

// OK when `url` is "https://" followed by a host (with an optional port)
// and an optional path, and nothing else. INVALID_ARGUMENT otherwise, its
// message a predicate to put after the field's name ("must start with
// https://"): a URL of no host, one with a user part ("user@"), a query or
// a fragment (the paths appended to it would become part of those, and
// every call would go to one resource), spaces or control characters.
absl::Status CheckBaseUrl(absl::string_view url);

// OK when `path`, a configured path appended to a base URL, starts with "/"
// and holds only visible ASCII (no spaces or control characters, which the
// HTTP client would refuse on every call, and no text of other scripts).
// INVALID_ARGUMENT otherwise, its message a predicate as CheckBaseUrl's.
absl::Status CheckUrlPath(absl::string_view path);

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_COMMON_HTTP_BASE_URL_H_
