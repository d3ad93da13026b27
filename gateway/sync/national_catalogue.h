// NationalCatalogue: the codes of the national procedure database as last
// read (CataloguePuller), in memory, for checking pushes and published
// procedures without a store read per call. Replaced whole after each read.
//
// Thread-safe: readers take a snapshot under a lock held for a pointer copy.
#ifndef LIENTHONG_GATEWAY_SYNC_NATIONAL_CATALOGUE_H_
#define LIENTHONG_GATEWAY_SYNC_NATIONAL_CATALOGUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace lienthong::sync {

class NationalCatalogue {
 public:
  enum class Verdict {
    kKnown,        // the national database has the code
    kUnknown,      // it does not
    kNoCatalogue,  // none has ever been read: cannot tell
  };

  // Returns what the catalogue says of `national_code`.
  Verdict Check(absl::string_view national_code) const;

  // Makes `codes`, read at `pulled_at`, the catalogue.
  void Replace(const std::vector<std::string>& codes, absl::Time pulled_at);

  // When the catalogue was read (nullopt: never), and its size.
  std::optional<absl::Time> pulled_at() const;
  int64_t size() const;

 private:
  struct Snapshot {
    absl::flat_hash_set<std::string> codes;
    absl::Time pulled_at;
  };
  std::shared_ptr<const Snapshot> Current() const;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_NATIONAL_CATALOGUE_H_
