#include "gateway/sync/national_catalogue.h"

#include <utility>

namespace lienthong::sync {

std::shared_ptr<const NationalCatalogue::Snapshot> NationalCatalogue::Current()
    const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

NationalCatalogue::Verdict NationalCatalogue::Check(
    absl::string_view national_code) const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  if (snapshot == nullptr) return Verdict::kNoCatalogue;
  return snapshot->codes.contains(national_code) ? Verdict::kKnown
                                                 : Verdict::kUnknown;
}

void NationalCatalogue::Replace(const std::vector<std::string>& codes,
                                absl::Time pulled_at) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->codes.insert(codes.begin(), codes.end());
  snapshot->pulled_at = pulled_at;
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
}

std::optional<absl::Time> NationalCatalogue::pulled_at() const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  if (snapshot == nullptr) return std::nullopt;
  return snapshot->pulled_at;
}

int64_t NationalCatalogue::size() const {
  std::shared_ptr<const Snapshot> snapshot = Current();
  return snapshot == nullptr ? 0 : static_cast<int64_t>(snapshot->codes.size());
}

}  // namespace lienthong::sync
