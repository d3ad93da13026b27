// What every population-database reply shares (docs/wire-formats.md): the
// SOAP 1.1 envelope, HTTP statuses and faults mapped to gateway errors, and
// the small XML helpers the reply parsers use. Elements are matched by local
// name, whatever their namespace prefix.
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_ENVELOPE_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_ENVELOPE_H_

#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pugixml.hpp"

namespace lienthong::adapters::c06 {

// Returns the Body element of the reply of HTTP status `http_status` with
// `body`, parsed into `doc` (which must outlive the node), when the reply is
// an HTTP 200 SOAP envelope without a fault.
//
// Fails with UNAVAILABLE:
//  - "population database is busy" for a soap:Server fault whose
//    faultstring starts with "He thong dang ban" (retriable);
//  - "population database reported an internal error" for other
//    soap:Server faults and unknown fault codes;
//  - "population database rejected the gateway's request" for a
//    soap:Client (or VersionMismatch, MustUnderstand) fault or HTTP 401/403;
//  - retriable for HTTP 502/503/504, plain for other non-200 statuses
//    without a fault;
//  - Malformed("not XML") or Malformed("no SOAP Envelope/Body") for a 200
//    that is not a SOAP envelope; Malformed("a control character") for a
//    200 holding one (raw or as a character reference; C0 but tab, line
//    feed and carriage return, DEL, C1); Malformed("an element twice where
//    one is expected") when an element in the Body has two child elements
//    of one name (CongDan aside: the lookup counts those) and
//    Malformed("text in more than one piece") for text split by a comment
//    or a CDATA section: the parsers read the first of each.
// Retriable errors are marked for adapters::IsRetriable. No message carries
// the body or the fault string. Thread-safe.
absl::StatusOr<pugi::xml_node> OpenSoapBody(long http_status,
                                            absl::string_view body,
                                            pugi::xml_document& doc);

// What every malformed-reply failure says; Malformed() adds ": <what>".
inline constexpr absl::string_view kMalformedReply =
    "population database sent a malformed reply";

// Returns UNAVAILABLE "population database sent a malformed reply: <what>".
// `what` names an element, never its content.
absl::Status Malformed(absl::string_view what);

// True when `status` is a failure Malformed() made. Thread-safe.
bool IsMalformed(const absl::Status& status);

// The local part of an element name: "ns1:CongDan" -> "CongDan".
absl::string_view LocalName(absl::string_view name);

// The first child element of `parent` with local name `local`, or an empty
// node.
pugi::xml_node Child(pugi::xml_node parent, absl::string_view local);

// The child elements of one node with their local names, read once, for a
// node asked for many of its children: a CongDan has some 20 and is asked
// for each, which Child() would answer by scanning them all every time.
class Children {
 public:
  explicit Children(pugi::xml_node parent);

  // The first child element with local name `local` (as Child()), or an
  // empty node.
  pugi::xml_node operator[](absl::string_view local) const;

 private:
  absl::InlinedVector<std::pair<absl::string_view, pugi::xml_node>, 24>
      children_;
};

// How many child elements of `parent` have local name `local`.
int CountChildren(pugi::xml_node parent, absl::string_view local);

// The element's text without surrounding ASCII whitespace; empty when absent.
absl::string_view Text(pugi::xml_node node);

// True when `node` is absent or holds neither text nor a non-empty child
// element (<ns1:QuocTich/>, <ns1:Cha><ns1:HoVaTen/></ns1:Cha>).
bool IsEmptyElement(pugi::xml_node node);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_SOAP_ENVELOPE_H_
