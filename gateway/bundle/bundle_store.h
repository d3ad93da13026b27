// BundleStore: where bundles are durable, behind a narrow interface so
// that a PostgreSQL store can replace the embedded SQLite one (issue 15):
// load the bundles with work left, write changed bundles atomically, read
// one, list some. A bundle is kept whole (its StoredBundle record) with a
// few columns to find it by.
//
// SqliteBundleStore is the embedded store (gateway/storage: WAL,
// synchronous=FULL): a Write that returned OK survives a crash and a power
// cut. A bundle's record holds personal data (the parents', the child's or
// the deceased's names, IDs and dates), so it is sealed with AES-256-GCM
// (sync::OutboxCipher) under the store's key, bound to the bundle's id; the
// columns to find it by (ids, dossier code, kind, state, times) stay clear.
#ifndef LIENTHONG_GATEWAY_BUNDLE_BUNDLE_STORE_H_
#define LIENTHONG_GATEWAY_BUNDLE_BUNDLE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/bundle/bundle_record.pb.h"
#include "gateway/storage/database.h"
#include "gateway/sync/outbox_cipher.h"

namespace lienthong::bundle {

// One stored bundle and its place in creation order.
struct StoredRow {
  int64_t seq = 0;
  internal::StoredBundle bundle;
};

struct BundleQuery {
  // Empty: any state.
  std::vector<lienthong::v1::BundleState> states;
  // BUNDLE_KIND_UNSPECIFIED: any kind.
  lienthong::v1::BundleKind kind = lienthong::v1::BUNDLE_KIND_UNSPECIFIED;
  // Rows created after this sequence.
  int64_t after_seq = 0;
  int limit = 100;
};

class BundleStore {
 public:
  virtual ~BundleStore() = default;

  // Returns every bundle with work left (not ended, or with progress
  // updates not yet handed to the portal synchronisation), in creation
  // order. UNAVAILABLE; DATA_LOSS for a record that cannot be read.
  virtual absl::StatusOr<std::vector<StoredRow>> LoadOpen() = 0;

  // Writes `bundles` (new or changed, whole, by id) in one transaction and
  // returns their sequences, in the same order: all durable when OK, none
  // when not. ALREADY_EXISTS when a new bundle names a dossier another
  // bundle has; UNAVAILABLE when the store cannot be written.
  virtual absl::StatusOr<std::vector<int64_t>> Write(
      absl::Span<const internal::StoredBundle* const> bundles) = 0;

  // The bundle with id `id` / for dossier `dossier_code`, or nullopt.
  // UNAVAILABLE; DATA_LOSS for an unreadable record.
  virtual absl::StatusOr<std::optional<StoredRow>> Get(absl::string_view id) = 0;
  virtual absl::StatusOr<std::optional<StoredRow>> FindByDossier(
      absl::string_view dossier_code) = 0;

  // The bundles matching `query`, in creation order. UNAVAILABLE; DATA_LOSS.
  virtual absl::StatusOr<std::vector<StoredRow>> List(
      const BundleQuery& query) = 0;

  // Deletes at most `limit` bundles with no work left (ended, progress all
  // handed over) whose last write was before `before`, oldest first, and
  // returns how many. UNAVAILABLE.
  virtual absl::StatusOr<int> DeleteEnded(absl::Time before, int limit) = 0;
};

// Where the store lives when bundles.store_file is empty.
inline constexpr char kDefaultBundleStoreFile[] = "var/bundles.db";

// The schema version this code writes (schema.h).
inline constexpr int kBundleStoreSchemaVersion = 2;

// The SQLite store. Thread-safe: one connection behind a mutex (writes come
// from the orchestrator's one thread; reads from API calls are short).
class SqliteBundleStore final : public BundleStore {
 public:
  // Opens (or creates, with its folder) the store at `path`, sealing under
  // `key` (32 bytes; a store of schema version 1 has its records sealed on
  // the way). INVALID_ARGUMENT for a key of another size; UNAVAILABLE when
  // the store cannot be opened; FAILED_PRECONDITION when its schema is newer
  // than this gateway's or it was sealed under another key.
  static absl::StatusOr<std::unique_ptr<SqliteBundleStore>> Open(
      const std::string& path, absl::string_view key);

  // Checks, without creating or writing anything, that Open(path) could
  // succeed (for lienthong-gateway --check). Open's codes.
  static absl::Status Check(const std::string& path);

  absl::StatusOr<std::vector<StoredRow>> LoadOpen() override;
  absl::StatusOr<std::vector<int64_t>> Write(
      absl::Span<const internal::StoredBundle* const> bundles) override;
  absl::StatusOr<std::optional<StoredRow>> Get(absl::string_view id) override;
  absl::StatusOr<std::optional<StoredRow>> FindByDossier(
      absl::string_view dossier_code) override;
  absl::StatusOr<std::vector<StoredRow>> List(const BundleQuery& query) override;
  absl::StatusOr<int> DeleteEnded(absl::Time before, int limit) override;

  // PRAGMA integrity_check: INTERNAL with the report unless "ok".
  absl::Status CheckIntegrity();

 private:
  SqliteBundleStore(std::unique_ptr<storage::Database> db,
                    sync::OutboxCipher cipher)
      : cipher_(std::move(cipher)), db_(std::move(db)) {}
  absl::StatusOr<std::vector<StoredRow>> Rows(storage::Statement& statement)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const sync::OutboxCipher cipher_;
  absl::Mutex mu_;
  std::unique_ptr<storage::Database> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_BUNDLE_STORE_H_
