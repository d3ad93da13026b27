#include "gateway/audit/refusals.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/record.h"

namespace lienthong::audit {
namespace {

std::string Key(const lienthong::v1::AuditRecord& r) {
  return absl::StrCat(r.caller(), "\n", r.method(), "\n", r.outcome());
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

}  // namespace

bool RefusalCoalescer::IsRefusal(const lienthong::v1::AuditRecord& r) {
  if (r.kind() != lienthong::v1::AuditRecord::CALL ||
      !r.national_system().empty() || r.attempts() != 0) {
    return false;
  }
  const std::string& o = r.outcome();
  // Auditors are audited call by call when refused for what they asked: a
  // refused search keeps whom it looked for. A refusal of the caller itself
  // (over its rate limit, not authenticated) is coalesced as any other, so
  // that the per-client rate limit bounds a flood of refused searches.
  if (absl::StartsWith(r.method(), "lienthong.v1.AuditService/") &&
      (o == "PERMISSION_DENIED" || o == "INVALID_ARGUMENT")) {
    return false;
  }
  return o == "UNAUTHENTICATED" || o == "PERMISSION_DENIED" ||
         o == "RESOURCE_EXHAUSTED" || o == "INVALID_ARGUMENT" ||
         o == "UNIMPLEMENTED";
}

bool RefusalCoalescer::Offer(const lienthong::v1::AuditRecord& record,
                             absl::Time now) {
  if (!IsRefusal(record)) return false;
  const std::string key = Key(record);
  auto it = windows_.find(key);
  if (it != windows_.end() && now < it->second.start + window_) {
    Window& w = it->second;
    if (w.count == 0) w.first_counted = now;
    w.last_counted = now;
    ++w.count;
    return true;
  }
  if (it == windows_.end() && windows_.size() >= max_windows_) return false;
  Window w;
  w.start = now;
  w.first = record;
  if (it != windows_.end()) {
    // The old window ended but was not yet taken: it is taken with the
    // next TakeEnded only if it counted calls, so keep its count apart.
    if (it->second.count > 0) return false;
    it->second = std::move(w);
  } else {
    windows_.emplace(key, std::move(w));
  }
  return false;
}

std::vector<lienthong::v1::AuditRecord> RefusalCoalescer::TakeEnded(
    absl::Time now) {
  std::vector<lienthong::v1::AuditRecord> out;
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& w = it->second;
    if (now != absl::InfiniteFuture() && now < w.start + window_) {
      ++it;
      continue;
    }
    if (w.count > 0) {
      lienthong::v1::AuditRecord r;
      ToProtoTime(w.first_counted, r.mutable_time()).IgnoreError();
      r.set_node(w.first.node());
      r.set_caller(w.first.caller());
      r.set_caller_cert_sha256(w.first.caller_cert_sha256());
      r.set_method(w.first.method());
      r.set_outcome(w.first.outcome());
      r.set_kind(lienthong::v1::AuditRecord::REFUSALS_COALESCED);
      r.set_count(w.count);
      r.set_details(absl::StrCat("first=", Rfc3339(w.first_counted),
                                 "; last=", Rfc3339(w.last_counted),
                                 "; after the refused call at ",
                                 Rfc3339(w.start)));
      coalesced_ += w.count;
      out.push_back(std::move(r));
    }
    windows_.erase(it++);
  }
  return out;
}

absl::Time RefusalCoalescer::NextEnd() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [key, w] : windows_) next = std::min(next, w.start + window_);
  return next;
}

}  // namespace lienthong::audit
