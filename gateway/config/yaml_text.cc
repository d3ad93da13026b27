#include "gateway/config/yaml_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lienthong::config::internal {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

bool IsIntegerText(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsSpecialFloatText(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+'))
    text.remove_prefix(1);
  return text == ".inf" || text == ".Inf" || text == ".INF" || text == ".nan" ||
         text == ".NaN" || text == ".NAN";
}

// [-+]? ( digits [. digits?] | . digits ) ( [eE] [-+]? digits )?
bool IsNumberText(absl::string_view text) {
  if (IsSpecialFloatText(text)) return true;
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(text[i])))
      ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// YAML 1.2 core schema booleans; yes/no/on/off are plain strings there.
std::optional<bool> BooleanFromText(absl::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

// Quoted and block scalars carry the non-specific tag "!"; plain ones "?".
bool IsQuoted(const YAML::Node& node) {
  return node.Tag() == "!" ||
         node.Tag() == absl::StrCat(kStandardTagPrefix, "str");
}

Kind KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return Kind::kMap;
    case YAML::NodeType::Sequence:
      return Kind::kList;
    case YAML::NodeType::Scalar:
      break;
    default:
      return Kind::kNull;
  }
  if (IsQuoted(node)) return Kind::kString;
  const std::string& text = node.Scalar();
  if (IsIntegerText(text)) return Kind::kInteger;
  if (IsNumberText(text)) return Kind::kNumber;
  if (BooleanFromText(text).has_value()) return Kind::kBoolean;
  return Kind::kString;
}

absl::string_view Describe(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kMap:
      return "a map";
    case Kind::kList:
      return "a list";
    case Kind::kString:
      return "a string";
    case Kind::kInteger:
      return "an integer";
    case Kind::kNumber:
      return "a number";
    case Kind::kBoolean:
      return "a boolean";
  }
  return "something else";
}

std::string Expected(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "an integer";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "a number";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat("a value of ", field->enum_type()->full_name());
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return "a map";
  }
  return "a value";
}

std::string EnumValueNames(const EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    names.push_back(type->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

std::string KnownKeys(const Descriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->field_count(); ++i) {
    names.push_back(type->field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

std::string JoinPath(absl::string_view base, absl::string_view relative) {
  if (absl::EndsWith(base, "/")) return absl::StrCat(base, relative);
  return absl::StrCat(base, "/", relative);
}

std::string ChildPath(absl::string_view parent, absl::string_view field) {
  return parent.empty() ? std::string(field) : absl::StrCat(parent, ".", field);
}

// "listener.tls" or, for the root, "the top level".
std::string PathName(absl::string_view path) {
  return path.empty() ? "the top level" : std::string(path);
}

std::optional<std::string> GetenvLookup(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

namespace {

constexpr absl::string_view kCredentialPrefix = "credential:";
// systemd allows 1 MB of credentials per unit; a config value is far less.
constexpr size_t kMaxCredentialBytes = 64 * 1024;

// A credential's name is a file name in one folder, as systemd's
// LoadCredential= IDs are: no '/', not "." or "..".
bool IsCredentialName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// The whole regular file at `path` if it holds at most `max_bytes`; else a
// reason ("cannot be read: ...", "is not a regular file", "is larger than
// ...") as an INVALID_ARGUMENT message.
absl::StatusOr<std::string> ReadSmallRegularFile(const std::string& path,
                                                 size_t max_bytes) {
  // Non-blocking, so that a FIFO in its place cannot hang start-up.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot be read: ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError("is not a regular file");
  }
  std::string value;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      if (n == 0) return value;
      return absl::InvalidArgumentError(
          absl::StrCat("cannot be read: ", std::strerror(error)));
    }
    value.append(buffer, static_cast<size_t>(n));
    if (value.size() > max_bytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat("is larger than ", max_bytes / 1024, " KiB"));
    }
  }
}

// The contents of $CREDENTIALS_DIRECTORY/`name` without one trailing line
// end. Messages name the credential, never its contents.
absl::StatusOr<std::string> ReadCredential(
    absl::string_view name,
    const std::function<std::optional<std::string>(const std::string&)>&
        lookup) {
  if (!IsCredentialName(name)) {
    return absl::InvalidArgumentError(
        "'${credential:...}' must hold a credential name (letters, digits, "
        "'_', '-' and '.')");
  }
  const std::optional<std::string> folder = lookup("CREDENTIALS_DIRECTORY");
  if (!folder.has_value() || folder->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "credential '", name,
        "': CREDENTIALS_DIRECTORY is not set (systemd sets it for a service "
        "with LoadCredential=)"));
  }
  absl::StatusOr<std::string> value =
      ReadSmallRegularFile(JoinPath(*folder, name), kMaxCredentialBytes);
  if (value.ok() && value->find('\0') != std::string::npos) {
    value = absl::InvalidArgumentError("holds a NUL byte");
  }
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("credential '", name, "' in CREDENTIALS_DIRECTORY ",
                     value.status().message()));
  }
  // Files written with `echo` or an editor end in a line end that is not
  // part of the secret.
  if (absl::EndsWith(*value, "\n")) {
    value->pop_back();
    if (absl::EndsWith(*value, "\r")) value->pop_back();
  }
  return value;
}

}  // namespace

absl::StatusOr<std::string> SubstituteEnvironment(
    absl::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>&
        lookup) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t dollar = text.find('$', pos);
    if (dollar == absl::string_view::npos) break;
    out.append(text.data() + pos, dollar - pos);
    absl::string_view rest = text.substr(dollar);
    if (absl::StartsWith(rest, "$${")) {  // escaped: a literal "${"
      out.append("${");
      pos = dollar + 3;
      continue;
    }
    if (!absl::StartsWith(rest, "${")) {  // a lone '$' is just a character
      out.push_back('$');
      pos = dollar + 1;
      continue;
    }
    const size_t close = rest.find('}');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "'${' without a closing '}' (write '$${' for a literal '${')");
    }
    const std::string name(rest.substr(2, close - 2));
    if (absl::StartsWith(name, kCredentialPrefix)) {
      auto credential = ReadCredential(
          absl::string_view(name).substr(kCredentialPrefix.size()), lookup);
      if (!credential.ok()) return credential.status();
      out.append(*credential);
      pos = dollar + close + 1;
      continue;
    }
    bool valid = !name.empty() &&
                 !absl::ascii_isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
        valid = false;
      }
    }
    if (!valid) {
      return absl::InvalidArgumentError(
          "'${...}' must hold an environment variable name (letters, digits "
          "and '_'; write '$${' for a literal '${')");
    }
    std::optional<std::string> value = lookup(name);
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable '", name, "' is not set"));
    }
    out.append(*value);
    pos = dollar + close + 1;
  }
  if (pos < text.size()) out.append(text.data() + pos, text.size() - pos);
  return out;
}

}  // namespace lienthong::config::internal
