// Catalogue rows from CSV (RFC 4180, with LF or CRLF line ends), a header
// row naming the columns (declared in catalogue_rows.h).
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/cli/catalogue_rows.h"

namespace lienthong::cli::catalogue_internal {
namespace {

struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  std::vector<std::string> errors;
  // The rest of the file was swallowed by an unclosed quote.
  bool unclosed = false;
};

// Splits CSV text into records, one at a time, keeping each one's syntax
// problems.
class CsvSplitter {
 public:
  explicit CsvSplitter(absl::string_view text) : text_(text) {}

  // Reads the next record into `record`. Returns false, leaving `record`
  // as it was, when the text has no more or the record is over a limit
  // (status() then says which).
  bool Next(CsvRecord& record) {
    if (done_ || pos_ >= text_.size()) return false;
    CsvRecord next;
    next.line = line_;
    done_ = !ReadRecord(next);
    if (!status_.ok()) return false;
    record = std::move(next);
    return true;
  }

  // OK, or the file problem that stopped the reading: INVALID_ARGUMENT
  // "line N: more than 1000 fields" or "line N: field F is longer than
  // 1 MiB". Names no text of the file.
  const absl::Status& status() const { return status_; }

 private:
  bool AtLineEnd(size_t p) const {
    return p < text_.size() &&
           (text_[p] == '\n' ||
            (text_[p] == '\r' && p + 1 < text_.size() && text_[p + 1] == '\n'));
  }

  // Reads the fields of one record into `record`. Returns false when an
  // unclosed quote swallowed the rest of the text, or the record is over a
  // limit (status_ is then set).
  bool ReadRecord(CsvRecord& record) {
    while (true) {
      const size_t number = record.fields.size() + 1;
      if (number > kMaxCsvFields) {
        return Stop(record,
                    absl::StrCat("more than ", kMaxCsvFields, " fields"));
      }
      std::string field;
      const bool closed = ReadField(number, record, field);
      if (closed && field.size() > kMaxCsvFieldBytes) {
        return Stop(record, absl::StrCat("field ", number, " is longer than ",
                                         kMaxCsvFieldMiB, " MiB"));
      }
      record.fields.push_back(std::move(field));
      if (!closed) {
        record.unclosed = true;
        return false;
      }
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size()) {  // at a line end
        pos_ += text_[pos_] == '\r' ? 2 : 1;
        ++line_;
      }
      return true;
    }
  }

  // Ends the reading with the file problem `what` of `record`.
  bool Stop(const CsvRecord& record, absl::string_view what) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("line ", record.line, ": ", what));
    return false;
  }

  // Reads field `number` of `record`, quoted or not. Returns false when its
  // quote is never closed.
  bool ReadField(size_t number, CsvRecord& record, std::string& field) {
    if (pos_ < text_.size() && text_[pos_] == '"') {
      return ReadQuoted(number, record, field);
    }
    ReadPlain(number, record, field);
    return true;
  }

  // A quoted field, field `number` of `record`. Returns false when the
  // quote is never closed.
  // REQUIRES: text_[pos_] == '"'.
  bool ReadQuoted(size_t number, CsvRecord& record, std::string& field) {
    const size_t n = text_.size();
    const int opened = line_;
    ++pos_;
    bool closed = false;
    while (pos_ < n) {
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
          field.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        closed = true;
        break;
      }
      if (c == '\n') ++line_;
      field.push_back(c);
      ++pos_;
    }
    if (!closed) {
      record.errors.push_back(absl::StrCat(
          "the quote that opens field ", number, " on line ", opened,
          " is never closed; it swallows the rest of the file"));
      return false;
    }
    if (pos_ < n && text_[pos_] != ',' && !AtLineEnd(pos_)) {
      record.errors.push_back(absl::StrCat(
          "field ", number,
          ": text after the closing quote (a quote inside a quoted field "
          "is written twice: \"\")"));
      while (pos_ < n && text_[pos_] != ',' && !AtLineEnd(pos_)) {
        field.push_back(text_[pos_++]);
      }
    }
    return true;
  }

  // An unquoted field, field `number` of `record`.
  void ReadPlain(size_t number, CsvRecord& record, std::string& field) {
    bool stray_quote = false;
    while (pos_ < text_.size() && text_[pos_] != ',' && !AtLineEnd(pos_)) {
      if (text_[pos_] == '"') stray_quote = true;
      field.push_back(text_[pos_++]);
    }
    if (stray_quote) {
      record.errors.push_back(absl::StrCat(
          "field ", number,
          ": a quote inside an unquoted field (quote the whole field and "
          "write the quote twice)"));
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  // An unclosed quote swallowed the rest of the text, or a record was over
  // a limit.
  bool done_ = false;
  absl::Status status_;
};

bool IsBlank(const CsvRecord& record) {
  return record.errors.empty() &&
         std::all_of(record.fields.begin(), record.fields.end(),
                     [](const std::string& field) {
                       return absl::StripAsciiWhitespace(field).empty();
                     });
}

// Maps each column of `header` to its field. Fails with INVALID_ARGUMENT
// for an unknown, repeated, unnamed or missing required column.
absl::Status MapColumns(const CsvRecord& header,
                        std::vector<const FieldSpec*>& columns) {
  std::vector<std::string> problems;
  std::map<FieldId, std::string> seen;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const absl::string_view name = absl::StripAsciiWhitespace(header.fields[i]);
    const FieldSpec* spec = FindField(name, /*ignore_case=*/true);
    columns.push_back(spec);
    if (name.empty()) {
      problems.push_back(absl::StrCat("column ", i + 1, " has no name"));
    } else if (spec == nullptr) {
      problems.push_back(absl::StrCat("unknown column ", Quoted(name)));
    } else if (auto it = seen.find(spec->id); it != seen.end()) {
      problems.push_back(absl::StrCat("columns ", Quoted(it->second), " and ",
                                      Quoted(name), " are the same field"));
    } else {
      seen.emplace(spec->id, std::string(name));
    }
  }
  if (header.fields.size() == 1 && columns[0] == nullptr &&
      absl::StrContains(header.fields[0], ';')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line,
        " (the header): the columns must be separated by ',' (this file "
        "seems to use ';'); known columns: ",
        KnownNames()));
  }
  for (FieldId id : kRequiredFields) {
    if (seen.count(id) == 0) {
      problems.push_back(
          absl::StrCat("missing column \"", kFields[id].key, "\""));
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line, " (the header): ", absl::StrJoin(problems, "; "),
        "; known columns: ", KnownNames()));
  }
  return absl::OkStatus();
}

// The row of one record under `columns`.
RawRow RowOfRecord(const CsvRecord& record,
                   const std::vector<const FieldSpec*>& columns) {
  RawRow raw;
  raw.row = record.line;
  raw.errors = record.errors;
  if (record.unclosed) {
    raw.unusable = true;
    return raw;
  }
  if (record.fields.size() != columns.size()) {
    // Its first syntax problem often says why (a stray quote before a ','),
    // the others, up to one a field, would only pile up.
    raw.errors.resize(std::min<size_t>(raw.errors.size(), 1));
    raw.errors.push_back(absl::StrCat("has ", record.fields.size(),
                                      " fields, the header has ",
                                      columns.size()));
    raw.unusable = true;
    return raw;
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    const FieldSpec& spec = *columns[i];
    RawValue& value = raw.values[spec.id];
    if (!spec.list) {
      value.scalar = record.fields[i];
      continue;
    }
    size_t position = 0;
    for (absl::string_view entry : absl::StrSplit(record.fields[i], ';')) {
      AddListEntry(entry, ++position, value);
    }
  }
  return raw;
}

// Reads the header: the first record that is not blank. Fails with
// INVALID_ARGUMENT when there is none, it has a syntax problem or the
// splitter stopped.
absl::Status ReadHeader(CsvSplitter& splitter, CsvRecord& header) {
  do {
    if (!splitter.Next(header)) {
      if (!splitter.status().ok()) return splitter.status();
      return absl::InvalidArgumentError(
          "the file is empty; the first line must name the columns, e.g. "
          "code,name,field,level");
    }
  } while (IsBlank(header));
  if (!header.errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line, " (the header): ", header.errors.front()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadCsvRows(absl::string_view text, std::vector<RawRow>& rows) {
  // Record by record, so that blank records are dropped without being kept
  // and a file with too many rows stops at the first one too many.
  CsvSplitter splitter(text);
  CsvRecord header;
  if (absl::Status s = ReadHeader(splitter, header); !s.ok()) return s;
  std::vector<const FieldSpec*> columns;
  if (absl::Status s = MapColumns(header, columns); !s.ok()) return s;
  int count = 0;
  CsvRecord record;
  while (splitter.Next(record)) {
    if (IsBlank(record)) continue;
    if (++count > kMaxCatalogueRows) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", record.line, ": ", TooManyRows()));
    }
    rows.push_back(RowOfRecord(record, columns));
  }
  return splitter.status();
}

}  // namespace lienthong::cli::catalogue_internal
