// Internal to the outbox (gateway/sync/outbox*.cc): small conversions its
// files share. Not for use outside them. The database is reached through
// gateway/storage (storage::Database, Statement, Transaction).
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_INTERNAL_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/storage/database.h"
#include "gateway/sync/outbox.h"
#include "google/protobuf/timestamp.pb.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {
namespace outbox_internal {

// Times in the store are Unix microseconds.
inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// The key of an item's queue in KeyQueues: "<p|d><code>".
inline std::string MapKey(ItemKind kind, absl::string_view code) {
  return absl::StrCat(kind == ItemKind::kProcedure ? "p" : "d", code);
}

// A dossier update's identity for duplicate detection:
// "MaHoSo|status|seconds.nanos".
inline std::string DedupKey(const lienthong::v1::DossierStatusUpdate& u) {
  return absl::StrCat(u.dossier_code(), "|", static_cast<int>(u.status()), "|",
                      u.time().seconds(), ".", u.time().nanos());
}

inline google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  ts.set_seconds(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
  ts.set_nanos(static_cast<int32_t>((us - ts.seconds() * 1000000) * 1000));
  return ts;
}

// Sorts `ids` and drops repeats (job ids for a JobListener).
inline void SortUnique(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// The ids given to RetryDeadLetters as numbers, each once ("7" and "07"
// are one letter, which must not be put back, and taken off its job's dead
// count, twice). INVALID_ARGUMENT for one that is not a positive number.
inline absl::StatusOr<std::vector<int64_t>> ParseDeadLetterIds(
    absl::Span<const std::string> ids) {
  std::vector<int64_t> wanted;
  for (const std::string& id : ids) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(id, &n) || n <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("dead letter id '", id, "' is not a number"));
    }
    wanted.push_back(n);
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  return wanted;
}

// ListDeadLetters' paging: `page_size` made 100 when 0 and at most 1000,
// `after` the id the token names (0 for none). INVALID_ARGUMENT for a
// negative size or a token this gateway did not give.
inline absl::Status ParsePage(int& page_size, absl::string_view page_token,
                              int64_t& after) {
  if (page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  if (page_size == 0) page_size = 100;
  page_size = std::min(page_size, 1000);
  after = 0;
  if (!page_token.empty() &&
      (!absl::SimpleAtoi(page_token, &after) || after < 0)) {
    return absl::InvalidArgumentError(
        "page_token is not one this gateway gave");
  }
  return absl::OkStatus();
}

// A dossier item's idempotency key: "<outbox id>-d<seq>-<code>", and
// "-r<generation>" once an item the portal refused is retried.
inline std::string IdempotencyKey(absl::string_view outbox_id, ItemKind kind,
                                  int64_t seq, absl::string_view code,
                                  int64_t generation = 0) {
  std::string key =
      absl::StrCat(outbox_id, "-", kind == ItemKind::kProcedure ? "p" : "d",
                   seq, "-", code);
  if (generation > 0) absl::StrAppend(&key, "-r", generation);
  return key;
}

// Marks item `id` superseded: a later change of its key replaces it, and it
// will never be sent. Its sealed personal data goes now, as a delivered
// item's does, and so does the reason it was refused (the portal's words
// may quote the applicant). In outbox_dossiers.cc.
absl::Status SupersedeItem(storage::Database& db, int64_t id, absl::Time now);

}  // namespace outbox_internal

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_INTERNAL_H_
