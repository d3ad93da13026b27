// PgOutbox: the schema, opening (outbox id, key check), the lease renewal
// thread, counts, readiness and the national catalogue's copy. Pushing,
// claiming, dead letters and pruning are in pg_outbox_items.cc.
#include "gateway/sync/pg_outbox.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/pg/pg_schema.h"
#include "gateway/sync/outbox_internal.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::Micros;
using storage::pg::Param;
using storage::pg::Result;
using storage::pg::Session;

namespace {

// Version 1: the tables of the SQLite outbox (outbox.cc) in PostgreSQL's
// types, and the lease of an item in flight: lease_owner (a replica's
// "<node>/<random>") and lease_until (the database clock, Unix
// microseconds). outbox_items_head finds an item's earlier open items;
// outbox_items_due the claimable ones.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE outbox_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE outbox_items(
  id BIGSERIAL PRIMARY KEY,
  kind SMALLINT NOT NULL,
  key TEXT NOT NULL,
  seq BIGINT NOT NULL,
  withdraw BOOLEAN NOT NULL DEFAULT false,
  payload BYTEA NOT NULL,
  content_hash TEXT,
  dedup_key TEXT UNIQUE,
  idempotency_key TEXT NOT NULL,
  key_generation INTEGER NOT NULL DEFAULT 0,
  state SMALLINT NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  first_failure_at BIGINT,
  last_error TEXT,
  refused BOOLEAN NOT NULL DEFAULT false,
  job_id TEXT,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  registration BOOLEAN NOT NULL DEFAULT false,
  sealed BOOLEAN NOT NULL DEFAULT false,
  sent BOOLEAN NOT NULL DEFAULT false,
  item_time BIGINT,
  lease_owner TEXT,
  lease_until BIGINT,
  UNIQUE(kind, key, seq));
CREATE INDEX outbox_items_head ON outbox_items(kind, key, seq)
  WHERE state IN (0, 1, 3);
CREATE INDEX outbox_items_due ON outbox_items(next_attempt_at, id)
  WHERE state IN (0, 1);
CREATE INDEX outbox_items_finished ON outbox_items(finished_at)
  WHERE state = 2;
CREATE TABLE outbox_dossiers(
  code TEXT PRIMARY KEY, last_seq BIGINT NOT NULL,
  last_status INTEGER NOT NULL, last_time_s BIGINT NOT NULL,
  last_time_ns BIGINT NOT NULL, registration_hash TEXT);
CREATE TABLE outbox_national_procedures(
  code TEXT PRIMARY KEY, detail BYTEA NOT NULL);
)sql";

// Version 2: the catalogue and its jobs, as in the SQLite outbox:
// outbox_procedures holds, per procedure, the content hash the portal will
// hold once queued changes are delivered (target) and the one it
// acknowledged (acked); outbox_jobs counts each SyncProcedures job's items.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE outbox_procedures(
  code TEXT PRIMARY KEY, last_seq BIGINT NOT NULL,
  target_hash TEXT, acked_hash TEXT);
CREATE TABLE outbox_jobs(
  id TEXT PRIMARY KEY, total INTEGER NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0,
  started BOOLEAN NOT NULL DEFAULT false, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL);
CREATE INDEX outbox_jobs_updated ON outbox_jobs(updated_at);
CREATE INDEX outbox_items_job ON outbox_items(job_id, state)
  WHERE job_id IS NOT NULL;
)sql";

constexpr storage::pg::Migration kMigrations[] = {{kSchemaV1}, {kSchemaV2}};

static_assert(static_cast<int>(ItemState::kPending) == 0 &&
                  static_cast<int>(ItemState::kInFlight) == 1 &&
                  static_cast<int>(ItemState::kDead) == 3,
              "the partial indexes name the open states by number");

absl::Duration RenewEvery(absl::Duration lease) {
  return std::min(lease / 3, absl::Seconds(1));
}

}  // namespace

absl::StatusOr<int> PgOutbox::Migrate(const storage::pg::PoolOptions& pool) {
  storage::pg::PoolOptions one = pool;
  one.size = 1;
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<storage::pg::Pool> p,
                             storage::pg::Pool::Create(one));
  return storage::pg::Migrate(*p, kComponent, kMigrations);
}

absl::StatusOr<std::unique_ptr<PgOutbox>> PgOutbox::Open(
    const PgOutboxOptions& options) {
  LIENTHONG_ASSIGN_OR_RETURN(OutboxCipher cipher,
                             OutboxCipher::Create(options.key));
  std::shared_ptr<storage::pg::Pool> pool = options.shared_pool;
  if (pool == nullptr) {
    LIENTHONG_ASSIGN_OR_RETURN(pool, storage::pg::Pool::Create(options.pool));
  }
  PgOutboxOptions kept = options;
  kept.key.clear();  // the cipher holds it
  kept.shared_pool.reset();  // pool_ holds it
  std::unique_ptr<PgOutbox> outbox(
      new PgOutbox(std::move(pool), std::move(kept), std::move(cipher)));
  if (absl::Status connected = outbox->Connect(); !connected.ok()) {
    // A schema or key refused now is refused at start, as a wrong config
    // is; a database that cannot be reached is waited for.
    if (!absl::IsUnavailable(connected)) return connected;
  } else {
    log::Info("portal outbox on PostgreSQL",
              {{"outbox_id", outbox->outbox_id_},
               {"lease_owner", outbox->owner_},
               {"lease_s", absl::StrCat(absl::ToInt64Seconds(options.lease))}});
  }
  outbox->renewer_ = std::thread([self = outbox.get()] { self->Renew(); });
  return outbox;
}

PgOutbox::PgOutbox(std::shared_ptr<storage::pg::Pool> pool,
                   PgOutboxOptions options, OutboxCipher cipher)
    : options_(std::move(options)),
      cipher_(std::move(cipher)),
      pool_(std::move(pool)),
      owner_(absl::StrCat(options_.replica, "/",
                          absl::StrFormat("%08x", absl::Uniform<uint32_t>(
                                                      absl::BitGen())))) {}

PgOutbox::~PgOutbox() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (renewer_.joinable()) renewer_.join();
}

std::string PgOutbox::SealedPlace(absl::string_view code, int64_t seq) const {
  return absl::StrCat(outbox_id_, "|d|", code, "|", seq);
}

absl::Status PgOutbox::Init() {
  // The first replica to open a new database makes its id and key check;
  // the others read them (ON CONFLICT keeps the first).
  absl::BitGen gen;
  const std::string fresh_id =
      absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
  std::string id;
  LIENTHONG_RETURN_IF_ERROR(pool_->Transact([&](Session& s) {
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("INSERT INTO outbox_meta(name, value) VALUES('outbox_id', $1) "
               "ON CONFLICT (name) DO NOTHING",
               {fresh_id})
            .status());
    LIENTHONG_ASSIGN_OR_RETURN(
        Result r, s.Exec("SELECT value FROM outbox_meta WHERE name='outbox_id'"));
    id = r.Text(0, 0);
    const std::string place = absl::StrCat(id, "|key-check");
    LIENTHONG_ASSIGN_OR_RETURN(std::string sealed, cipher_.SealKeyCheck(place));
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("INSERT INTO outbox_meta(name, value) VALUES('key_check', $1) "
               "ON CONFLICT (name) DO NOTHING",
               {absl::BytesToHexString(sealed)})
            .status());
    LIENTHONG_ASSIGN_OR_RETURN(
        Result check,
        s.Exec("SELECT value FROM outbox_meta WHERE name='key_check'"));
    if (!cipher_.KeyCheckOpens(absl::HexStringToBytes(check.Text(0, 0)),
                               place)) {
      return absl::FailedPreconditionError(
          "the PostgreSQL outbox was sealed under another key than "
          "portal_sync.outbox_key_file holds: every replica needs the key "
          "it was made with");
    }
    return absl::OkStatus();
  }));
  outbox_id_ = id;
  return absl::OkStatus();
}

absl::Status PgOutbox::Connect() {
  absl::Status status = storage::pg::CheckCurrent(*pool_, kComponent, kMigrations);
  if (status.ok()) status = Init();
  absl::Status reason;  // as Ready() and the calls say it
  if (status.ok()) {
    connected_.store(true);
  } else {
    reason = absl::UnavailableError(absl::StrCat(
        absl::IsUnavailable(status) ? "outbox database unreachable: "
                                    : "outbox database not usable: ",
        status.message()));
  }
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    changed = reason.message() != not_connected_.message();
    not_connected_ = reason;
  }
  if (changed && reason.ok()) {
    log::Info("portal outbox on PostgreSQL: connected",
              {{"outbox_id", outbox_id_}, {"lease_owner", owner_}});
  } else if (changed) {
    log::Error("portal outbox on PostgreSQL not connected; pushes are refused",
               {{"reason", reason.message()}});
  }
  return status;
}

absl::Status PgOutbox::Usable() const {
  if (connected_.load()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return not_connected_.ok()
             ? absl::UnavailableError("outbox database not connected yet")
             : not_connected_;
}

void PgOutbox::Renew() {
  const absl::Duration every = RenewEvery(options_.lease);
  const std::string lease_us =
      absl::StrCat(absl::ToInt64Microseconds(options_.lease));
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_;
      };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), every)) return;
    }
    if (!connected_.load()) {
      Connect().IgnoreError();  // logged; Ready() says why
      continue;
    }
    const std::string held = HeldArray();
    if (held != "{}") {
      pool_
          ->Run(
              "UPDATE outbox_items SET lease_until="
              "(extract(epoch from clock_timestamp())*1000000)::bigint + $2 "
              "WHERE state=1 AND lease_owner=$1 AND id = ANY($3::bigint[])",
              {owner_, lease_us, held})
          .IgnoreError();  // the next try is a third of the lease away
    }
    NotifyJobChanges();
    absl::StatusOr<Result> counted = pool_->Run(
        "SELECT state, count(*) FROM outbox_items WHERE state IN (0, 1, 3) "
        "GROUP BY state");
    if (!counted.ok()) continue;
    OutboxCounts counts;
    for (int row = 0; row < counted->rows(); ++row) {
      const int64_t n = counted->Int64(row, 1);
      switch (counted->Int64(row, 0)) {
        case 0: counts.pending = n; break;
        case 1: counts.in_flight = n; break;
        case 3: counts.dead = n; break;
      }
    }
    absl::MutexLock lock(&mu_);
    open_counts_ = counts;
  }
}

std::string PgOutbox::HeldArray() const {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("{", absl::StrJoin(held_, ","), "}");
}

void PgOutbox::PollAt(absl::Time when) const {
  absl::MutexLock lock(&mu_);
  next_poll_ = when;
}

std::optional<absl::Time> PgOutbox::NextDue() const {
  absl::MutexLock lock(&mu_);
  return next_poll_;
}

absl::Status PgOutbox::ExpediteRetries(absl::Time due) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  LIENTHONG_RETURN_IF_ERROR(
      pool_
          ->Run("UPDATE outbox_items SET next_attempt_at=$1 "
                "WHERE state=0 AND next_attempt_at>$1",
                {absl::StrCat(Micros(due))})
          .status());
  {
    absl::MutexLock lock(&mu_);
    next_poll_ = std::min(next_poll_, due);
  }
  NotifyWork();
  return absl::OkStatus();
}

absl::StatusOr<OutboxCounts> PgOutbox::Counts() const {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r,
      pool_->Run("SELECT state, count(*) FROM outbox_items GROUP BY state"));
  OutboxCounts counts;
  for (int row = 0; row < r.rows(); ++row) {
    const int64_t n = r.Int64(row, 1);
    switch (r.Int64(row, 0)) {
      case 0: counts.pending = n; break;
      case 1: counts.in_flight = n; break;
      case 2: counts.delivered = n; break;
      case 3: counts.dead = n; break;
      case 4: break;
      default:
        return absl::DataLossError("outbox: an item has an unknown state");
    }
  }
  return counts;
}

OutboxCounts PgOutbox::OpenCounts() const {
  absl::MutexLock lock(&mu_);
  return open_counts_;
}

absl::Status PgOutbox::Ready() const {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  absl::Status ready = pool_->Ready();
  if (ready.ok()) return ready;
  return absl::UnavailableError(
      absl::StrCat("outbox database unreachable: ", ready.message()));
}

absl::Status PgOutbox::CheckIntegrity() const {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r,
      pool_->Run("SELECT "
                 "(SELECT count(*) FROM outbox_items WHERE state=1 AND "
                 "(lease_owner IS NULL OR lease_until IS NULL)), "
                 "(SELECT count(*) FROM outbox_items WHERE state NOT IN "
                 "(0, 1, 2, 3, 4) OR kind NOT IN (1, 2))"));
  if (r.Int64(0, 0) == 0 && r.Int64(0, 1) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(
      "outbox integrity check: ", r.Int64(0, 0),
      " in flight without a lease, ", r.Int64(0, 1), " of unknown kind or state"));
}

absl::Status PgOutbox::ReplaceNationalCatalogue(
    absl::Span<const lienthong::v1::NationalProcedure> procedures,
    absl::Time pulled_at) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  return pool_->Transact([&](Session& s) {
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("DELETE FROM outbox_national_procedures").status());
    for (const lienthong::v1::NationalProcedure& procedure : procedures) {
      LIENTHONG_RETURN_IF_ERROR(
          s.Exec("INSERT INTO outbox_national_procedures(code, detail) "
                 "VALUES($1, $2) ON CONFLICT (code) DO UPDATE SET "
                 "detail=EXCLUDED.detail",
                 {procedure.code(),
                  storage::pg::ByteaParam(procedure.SerializeAsString())})
              .status());
    }
    return s
        .Exec("INSERT INTO outbox_meta(name, value) "
              "VALUES('catalogue_pulled_at', $1) ON CONFLICT (name) DO "
              "UPDATE SET value=EXCLUDED.value",
              {absl::StrCat(Micros(pulled_at))})
        .status();
  });
}

absl::StatusOr<Outbox::NationalCatalogueRows> PgOutbox::ReadNationalCatalogue()
    const {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  NationalCatalogueRows rows;
  LIENTHONG_RETURN_IF_ERROR(pool_->Transact([&](Session& s) {
    rows = NationalCatalogueRows();
    LIENTHONG_ASSIGN_OR_RETURN(
        Result at, s.Exec("SELECT value FROM outbox_meta "
                          "WHERE name='catalogue_pulled_at'"));
    int64_t micros = 0;
    if (at.rows() == 1 && absl::SimpleAtoi(at.Text(0, 0), &micros)) {
      rows.pulled_at = FromMicros(micros);
    }
    LIENTHONG_ASSIGN_OR_RETURN(
        Result codes, s.Exec("SELECT code FROM outbox_national_procedures"));
    for (int row = 0; row < codes.rows(); ++row) {
      rows.codes.push_back(codes.Text(row, 0));
    }
    return absl::OkStatus();
  }));
  return rows;
}

}  // namespace lienthong::sync
