// The "ministry-rest-json" adapter: records of the ministries' other
// databases (DESIGN.md, job 5) over JSON/HTTPS, every record type declared
// in the config (MinistryRestJsonConfig): which request to send for it,
// which key parameters it takes, and where each field is in the reply. A
// new ministry system is a config entry, not code.
//
// A request: `method` to upstream.base_url + `path` (placeholders
// percent-encoded), with the configured headers, Accept:
// application/json, and for POST the body template (placeholders
// JSON-escaped) as application/json. A request whose values would make a
// segment of the URL path ".", ".." or empty is refused unsent with
// INVALID_ARGUMENT naming the parameter (RecordTemplate::ExpandPath). The
// reply is read by record_reply.h; one over the HTTP client's limit is
// UNAVAILABLE naming the limit, not retriable. Transport failures are
// UNAVAILABLE or DEADLINE_EXCEEDED marked retriable (a read may be sent
// again).
#ifndef LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_MINISTRY_REST_JSON_ADAPTER_H_
#define LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_MINISTRY_REST_JSON_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::ministry_rest_json {

// The factory of "ministry-rest-json". Create() fails with INVALID_ARGUMENT
// naming the config field (upstream.base_url not https://, a bad header,
// no record type, a record type's bad method, path, body template,
// pointer or success rule, a repeated record type), and INTERNAL without an
// HTTP client in the context. The names and patterns of record types,
// parameters and fields are checked by the gateway when it builds its
// routes (validation::RecordSchema), like any adapter's.
std::unique_ptr<AdapterFactory> MakeMinistryRestJsonFactory();

}  // namespace lienthong::adapters::ministry_rest_json

#endif  // LIENTHONG_ADAPTERS_MINISTRY_REST_JSON_MINISTRY_REST_JSON_ADAPTER_H_
