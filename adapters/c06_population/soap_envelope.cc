#include "adapters/c06_population/soap_envelope.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapters/common/retriable.h"
#include "gateway/status/status_macros.h"

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

// A code point no value of the wire format holds: C0 controls but tab,
// line feed and carriage return; DEL; C1 controls.
bool IsControl(uint32_t c) {
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
         (c >= 0x7f && c <= 0x9f);
}

// OK when `body` holds no control character, raw or as a character
// reference (&#0; would end a value where pugixml stores it: the text
// after it would be dropped unseen).
absl::Status CheckCharacters(absl::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c >= 0x20 && c != '&' && c != 0x7f && c != 0xc2) continue;  // most
    const bool raw_c1 = c == 0xc2 && i + 1 < body.size() &&
                        static_cast<unsigned char>(body[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(body[i + 1]) <= 0x9f;
    if ((c < 0x80 && IsControl(c)) || raw_c1) {
      return Malformed("a control character");
    }
    if (c != '&' || i + 2 >= body.size() || body[i + 1] != '#') continue;
    const bool hex = body[i + 2] == 'x' || body[i + 2] == 'X';
    // Every digit, wrapping as pugixml's 32-bit code point does: a
    // reference of leading zeros (&#000000000000000;) or one past 2^32 is
    // still NUL where pugixml stores it.
    uint32_t value = 0;
    size_t j = i + (hex ? 3 : 2);
    for (; j < body.size(); ++j) {
      const char d = body[j];
      if (hex && absl::ascii_isxdigit(d)) {
        value = value * 16 + (absl::ascii_isdigit(d)
                                  ? d - '0'
                                  : absl::ascii_tolower(d) - 'a' + 10);
      } else if (!hex && absl::ascii_isdigit(d)) {
        value = value * 10 + (d - '0');
      } else {
        break;
      }
    }
    if (j < body.size() && body[j] == ';' && IsControl(value)) {
      return Malformed("a control character");
    }
  }
  return absl::OkStatus();
}

// OK when no element under `body` holds two child elements of one name
// (but CongDan, whose count the lookup checks) or text in more than one
// piece (split by a comment, which pugixml drops, or a CDATA section):
// pugixml would read the first and the reply would mean what its sender
// chose. Each node is looked at once, from a stack of the elements still
// to check rather than by recursion.
absl::Status CheckShape(pugi::xml_node body) {
  absl::InlinedVector<pugi::xml_node, 32> elements = {body};
  absl::InlinedVector<absl::string_view, 32> names;
  while (!elements.empty()) {
    const pugi::xml_node element = elements.back();
    elements.pop_back();
    names.clear();
    int texts = 0;
    for (pugi::xml_node child = element.first_child(); child;
         child = child.next_sibling()) {
      const pugi::xml_node_type type = child.type();
      if (type == pugi::node_pcdata || type == pugi::node_cdata) {
        ++texts;
      } else if (type == pugi::node_element) {
        names.push_back(LocalName(child.name()));
        elements.push_back(child);
      }
    }
    if (texts > 1) return Malformed("text in more than one piece");
    // pugixml keeps both; the reader would take one (ThoiDiemDuLieu decides
    // the address scheme).
    for (pugi::xml_attribute a = element.first_attribute(); a;
         a = a.next_attribute()) {
      for (pugi::xml_attribute b = a.next_attribute(); b;
           b = b.next_attribute()) {
        if (LocalName(a.name()) == LocalName(b.name())) {
          return Malformed("an attribute twice");
        }
      }
    }
    if (names.size() > 1) std::sort(names.begin(), names.end());
    for (size_t i = 1; i < names.size(); ++i) {
      if (names[i] == names[i - 1] && names[i] != "CongDan") {
        return Malformed("an element twice where one is expected");
      }
    }
  }
  return absl::OkStatus();
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
  if (http_status == 200) LIENTHONG_RETURN_IF_ERROR(CheckCharacters(body));
  const pugi::xml_parse_result parsed = doc.load_buffer(
      body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  pugi::xml_node envelope = doc.document_element();
  pugi::xml_node soap_body = Child(envelope, "Body");
  if (!parsed || LocalName(envelope.name()) != "Envelope" || !soap_body) {
    if (http_status != 200) return HttpError(http_status);
    return Malformed(parsed ? "no SOAP Envelope/Body" : "not XML");
  }
  // Only the first Envelope would be read, and the first Body: a record or a
  // fault in a second one unseen.
  int roots = 0;
  for (pugi::xml_node node : doc.children()) {
    roots += node.type() == pugi::node_element ? 1 : 0;
  }
  if (roots > 1) {
    if (http_status != 200) return HttpError(http_status);
    return Malformed("more than one root element");
  }
  if (CountChildren(envelope, "Body") > 1) {
    if (http_status != 200) return HttpError(http_status);
    return Malformed("more than one SOAP Body");
  }
  if (pugi::xml_node fault = Child(soap_body, "Fault")) {
    return FaultStatus(fault);
  }
  if (http_status != 200) return HttpError(http_status);
  LIENTHONG_RETURN_IF_ERROR(CheckShape(soap_body));
  return soap_body;
}

}  // namespace lienthong::adapters::c06
