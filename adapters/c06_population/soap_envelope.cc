#include "adapters/c06_population/soap_envelope.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapters/common/retriable.h"

namespace lienthong::adapters::c06 {
namespace {

constexpr absl::string_view kBusyPrefix = "He thong dang ban";

absl::Status Rejected() {
  return absl::UnavailableError(
      "population database rejected the gateway's request");
}

absl::Status FaultStatus(pugi::xml_node fault) {
  const absl::string_view code = LocalName(Text(Child(fault, "faultcode")));
  const absl::string_view reason = Text(Child(fault, "faultstring"));
  const auto is = [code](absl::string_view kind) {
    return code == kind || absl::StartsWith(code, absl::StrCat(kind, "."));
  };
  if (is("Server") && absl::StartsWithIgnoreCase(reason, kBusyPrefix)) {
    return MarkRetriable(absl::UnavailableError("population database is busy"));
  }
  if (is("Client") || is("VersionMismatch") || is("MustUnderstand")) {
    return Rejected();
  }
  return absl::UnavailableError(
      "population database reported an internal error");
}

absl::Status HttpError(long http_status) {
  return absl::UnavailableError(
      absl::StrCat("population database answered HTTP ", http_status));
}

}  // namespace

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(kMalformedReply, ": ", what));
}

bool IsMalformed(const absl::Status& status) {
  absl::string_view message = status.message();
  return status.code() == absl::StatusCode::kUnavailable &&
         absl::ConsumePrefix(&message, kMalformedReply) &&
         absl::StartsWith(message, ": ");
}

absl::string_view LocalName(absl::string_view name) {
  const size_t colon = name.rfind(':');
  return colon == absl::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, absl::string_view local) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element &&
        LocalName(child.name()) == local) {
      return child;
    }
  }
  return pugi::xml_node();
}

Children::Children(pugi::xml_node parent) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element) {
      children_.emplace_back(LocalName(child.name()), child);
    }
  }
}

pugi::xml_node Children::operator[](absl::string_view local) const {
  for (const auto& [name, child] : children_) {
    if (name == local) return child;
  }
  return pugi::xml_node();
}

int CountChildren(pugi::xml_node parent, absl::string_view local) {
  int count = 0;
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element &&
        LocalName(child.name()) == local) {
      ++count;
    }
  }
  return count;
}

absl::string_view Text(pugi::xml_node node) {
  return absl::StripAsciiWhitespace(node.text().get());
}

bool IsEmptyElement(pugi::xml_node node) {
  if (!node) return true;
  // Walked without recursion: a hostile reply nests elements deeper than
  // a thread's stack holds frames (pugixml itself parses them iteratively).
  for (pugi::xml_node at = node.first_child(); at;) {
    if ((at.type() == pugi::node_pcdata || at.type() == pugi::node_cdata) &&
        !absl::StripAsciiWhitespace(at.value()).empty()) {
      return false;
    }
    if (at.type() == pugi::node_element && at.first_child()) {
      at = at.first_child();
      continue;
    }
    while (!at.next_sibling()) {
      at = at.parent();
      if (at == node) return true;
    }
    at = at.next_sibling();
  }
  return true;
}

absl::StatusOr<pugi::xml_node> OpenSoapBody(long http_status,
                                            absl::string_view body,
                                            pugi::xml_document& doc) {
  if (http_status == 401 || http_status == 403) return Rejected();
  if (http_status == 502 || http_status == 503 || http_status == 504) {
    return MarkRetriable(absl::UnavailableError(absl::StrCat(
        "population database is unavailable (HTTP ", http_status, ")")));
  }
  const pugi::xml_parse_result parsed = doc.load_buffer(
      body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  pugi::xml_node envelope = doc.document_element();
  pugi::xml_node soap_body = Child(envelope, "Body");
  if (!parsed || LocalName(envelope.name()) != "Envelope" || !soap_body) {
    if (http_status != 200) return HttpError(http_status);
    return Malformed(parsed ? "no SOAP Envelope/Body" : "not XML");
  }
  if (pugi::xml_node fault = Child(soap_body, "Fault")) {
    return FaultStatus(fault);
  }
  if (http_status != 200) return HttpError(http_status);
  return soap_body;
}

}  // namespace lienthong::adapters::c06
