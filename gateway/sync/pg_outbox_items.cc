// PgOutbox: pushing dossier updates, finishing and claiming deliveries under
// leases, dead letters, pruning (see pg_outbox.h).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_internal.h"
#include "gateway/sync/outbox_push.h"
#include "gateway/sync/pg_outbox.h"

namespace lienthong::sync {

using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;
using outbox_internal::DossierHead;
using outbox_internal::FromMicros;
using outbox_internal::Micros;
using outbox_internal::TimeOf;
using storage::pg::ByteaParam;
using storage::pg::Param;
using storage::pg::Result;
using storage::pg::Session;

namespace {

// The database's clock in Unix microseconds: leases are judged by one
// clock, whichever replica's clock is off.
#define LIENTHONG_PG_NOW_US \
  "(extract(epoch from clock_timestamp())*1000000)::bigint"

std::string Num(int64_t n) { return absl::StrCat(n); }
Param Bool(bool b) { return std::string(b ? "true" : "false"); }

// The rules' PushStore on a session: locks each dossier's row on first
// read, for the rest of the push's transaction.
class PgPushStore : public outbox_internal::PushStore {
 public:
  PgPushStore(Session& session, const OutboxCipher& cipher,
              const std::string& outbox_id, absl::Time now)
      : session_(session), cipher_(cipher), outbox_id_(outbox_id), now_(now) {}

  absl::StatusOr<DossierHead> ReadHead(const std::string& code) override {
    LIENTHONG_RETURN_IF_ERROR(
        session_
            .Exec("INSERT INTO outbox_dossiers(code, last_seq, last_status, "
                  "last_time_s, last_time_ns) VALUES($1, 0, 0, 0, 0) "
                  "ON CONFLICT (code) DO NOTHING",
                  {code})
            .status());
    LIENTHONG_ASSIGN_OR_RETURN(
        Result r, session_.Exec("SELECT last_seq, last_status, last_time_s, "
                                "last_time_ns, registration_hash FROM "
                                "outbox_dossiers WHERE code=$1 FOR UPDATE",
                                {code}));
    DossierHead head;
    head.last_seq = r.Int64(0, 0);
    head.status = static_cast<DossierStatus>(r.Int64(0, 1));
    head.time = absl::FromUnixSeconds(r.Int64(0, 2)) +
                absl::Nanoseconds(r.Int64(0, 3));
    head.registration = r.OptionalText(0, 4);
    return head;
  }

  absl::StatusOr<std::optional<QueuedUpdate>> Queued(
      const std::string& dedup) override {
    LIENTHONG_ASSIGN_OR_RETURN(
        Result r,
        session_.Exec(
            "SELECT content_hash FROM outbox_items WHERE dedup_key=$1",
            {dedup}));
    if (r.rows() == 0) return std::nullopt;
    return QueuedUpdate{r.OptionalText(0, 0)};
  }

  absl::Status Insert(const DossierStatusUpdate& u, int64_t seq,
                      bool registration,
                      const std::optional<std::string>& dedup,
                      const std::optional<std::string>& content) override {
    LIENTHONG_ASSIGN_OR_RETURN(
        std::string sealed,
        cipher_.Seal(u.SerializeAsString(), Place(u.dossier_code(), seq)));
    return session_
        .Exec(
            "INSERT INTO outbox_items(kind, key, seq, payload, dedup_key, "
            "idempotency_key, state, next_attempt_at, created_at, "
            "registration, sealed, item_time, content_hash) "
            "VALUES($1, $2, $3, $4, $5, $6, 0, $7, $7, $8, true, $9, $10)",
            {Num(static_cast<int>(ItemKind::kDossier)), u.dossier_code(),
             Num(seq), ByteaParam(sealed), dedup,
             outbox_internal::IdempotencyKey(outbox_id_, ItemKind::kDossier,
                                             seq, u.dossier_code()),
             Num(Micros(now_)), Bool(registration), Num(Micros(TimeOf(u))),
             content})
        .status();
  }

  absl::StatusOr<int64_t> SupersedeDeadRegistration(const std::string& code,
                                                    int64_t last_seq) override {
    // Locked until the transaction commits: a retry of the dead letter
    // through another replica waits, and one that came first has left it
    // pending (nothing superseded then).
    LIENTHONG_ASSIGN_OR_RETURN(
        Result head,
        session_.Exec("SELECT id, seq, state, registration FROM outbox_items "
                      "WHERE kind=2 AND key=$1 AND state IN (0, 1, 3) "
                      "ORDER BY seq LIMIT 1 FOR UPDATE",
                      {code}));
    if (head.rows() == 0 || head.Int64(0, 2) != 3 || head.Text(0, 3) != "t") {
      return 0;
    }
    LIENTHONG_ASSIGN_OR_RETURN(
        Result waiting,
        session_.Exec("SELECT id, seq, registration, sealed, payload FROM "
                      "outbox_items WHERE kind=2 AND key=$1 AND seq>$2 AND "
                      "state IN (0, 1, 3) ORDER BY seq FOR UPDATE",
                      {code, head.Text(0, 1)}));
    // The latest registration replaces the dead one: the one a push just
    // queued, or one queued while the dead one was still pending.
    int latest = -1;
    for (int row = 0; row < waiting.rows(); ++row) {
      if (waiting.Text(row, 2) == "t") latest = row;
    }
    if (latest < 0) return 0;
    LIENTHONG_RETURN_IF_ERROR(Supersede(head.Text(0, 0)));
    int64_t moved = 0;
    for (int row = 0; row < waiting.rows(); ++row) {
      if (row == latest) continue;
      if (waiting.Text(row, 2) == "t") {
        // Older content than the registration that replaces them all.
        LIENTHONG_RETURN_IF_ERROR(Supersede(waiting.Text(row, 0)));
        continue;
      }
      LIENTHONG_RETURN_IF_ERROR(Move(code, waiting, row, last_seq + ++moved));
    }
    return moved;
  }

 private:
  // Where a dossier item's payload is sealed: "<outbox id>|d|<code>|<seq>".
  std::string Place(absl::string_view code, int64_t seq) const {
    return absl::StrCat(outbox_id_, "|d|", code, "|", seq);
  }

  // Moves dossier item `row` of `waiting` (id, seq, registration, sealed,
  // payload) to sequence `to`, sealed and keyed anew for its place.
  absl::Status Move(const std::string& code, const Result& waiting, int row,
                    int64_t to) {
    // The seal binds the payload to its place. One that does not open
    // stays as it is, and is parked as a dead letter when claimed.
    std::string payload = waiting.Bytea(row, 4);
    if (waiting.Text(row, 3) == "t") {
      absl::StatusOr<std::string> opened =
          cipher_.Open(payload, Place(code, waiting.Int64(row, 1)));
      if (opened.ok()) {
        LIENTHONG_ASSIGN_OR_RETURN(payload,
                                   cipher_.Seal(*opened, Place(code, to)));
      }
    }
    return session_
        .Exec(
            "UPDATE outbox_items SET seq=$2, payload=$3, "
            "idempotency_key=$4 WHERE id=$1",
            {waiting.Text(row, 0), Num(to), ByteaParam(payload),
             outbox_internal::IdempotencyKey(outbox_id_, ItemKind::kDossier, to,
                                             code)})
        .status();
  }

  // Marks dossier item `id` superseded. It will never be sent, so its
  // sealed personal data goes now, as a delivered item's does, and so does
  // the reason it was refused (the portal's words may quote the applicant).
  absl::Status Supersede(const std::string& id) {
    return session_
        .Exec(
            "UPDATE outbox_items SET state=4, finished_at=$2, last_error=NULL, "
            "payload=CASE WHEN sealed THEN ''::bytea ELSE payload END "
            "WHERE id=$1",
            {id, Num(Micros(now_))})
        .status();
  }

  Session& session_;
  const OutboxCipher& cipher_;
  const std::string& outbox_id_;
  const absl::Time now_;
};

absl::Status WriteHead(Session& s, const std::string& code,
                       const DossierHead& head) {
  const int64_t seconds = absl::ToUnixSeconds(head.time);
  return s
      .Exec("UPDATE outbox_dossiers SET last_seq=$2, last_status=$3, "
            "last_time_s=$4, last_time_ns=$5, registration_hash=$6 "
            "WHERE code=$1",
            {code, Num(head.last_seq), Num(static_cast<int>(head.status)),
             Num(seconds),
             Num(absl::ToUnixNanos(head.time) - seconds * 1000000000),
             head.registration})
      .status();
}

// Adds `by` to job `job`'s `column` (delivered or dead).
absl::Status CountInJob(Session& s, const std::string& job,
                        absl::string_view column, int by, absl::Time now) {
  return s
      .Exec(absl::StrCat("UPDATE outbox_jobs SET ", column, "=", column,
                         "+$2, updated_at=$3 WHERE id=$1"),
            {job, Num(by), Num(Micros(now))})
      .status();
}

// Records result `r` of an item while `owner` holds its lease. Returns the
// item's kind, key, withdraw, content_hash, job_id and registration; no
// row when the lease had passed to another replica.
absl::StatusOr<Result> FinishLeased(Session& s, const DeliveryResult& r,
                                    const std::string& owner, absl::Time now) {
  constexpr char kHeld[] =
      " WHERE id=$1 AND state=1 AND lease_owner=$2 "
      "RETURNING kind, key, withdraw, content_hash, job_id, registration";
  const std::string id = Num(r.id);
  switch (r.kind) {
    case DeliveryResult::Kind::kDelivered:
      // The sealed payload goes with the delivery.
      return s.Exec(
          absl::StrCat("UPDATE outbox_items SET state=2, attempts=attempts+1, "
                       "finished_at=$3, last_error=NULL, lease_owner=NULL, "
                       "lease_until=NULL, payload=CASE WHEN sealed THEN "
                       "''::bytea ELSE payload END",
                       kHeld),
          {id, owner, Num(Micros(now))});
    case DeliveryResult::Kind::kRetry:
      return s.Exec(
          absl::StrCat("UPDATE outbox_items SET state=0, attempts=attempts+1, "
                       "next_attempt_at=$3, first_failure_at="
                       "COALESCE(first_failure_at, $4), last_error=$5, "
                       "lease_owner=NULL, lease_until=NULL",
                       kHeld),
          {id, owner, Num(Micros(r.next_attempt)), Num(Micros(now)),
           r.message});
    case DeliveryResult::Kind::kDead:
      return s.Exec(
          absl::StrCat("UPDATE outbox_items SET state=3, attempts=attempts+1, "
                       "last_error=$3, refused=$4, finished_at=$5, "
                       "lease_owner=NULL, lease_until=NULL",
                       kHeld),
          {id, owner, r.message, Bool(r.refused), Num(Micros(now))});
    case DeliveryResult::Kind::kRelease:
      return s.Exec(absl::StrCat("UPDATE outbox_items SET state=0, "
                                 "lease_owner=NULL, lease_until=NULL",
                                 kHeld),
                    {id, owner});
  }
  return absl::InternalError("outbox: unknown delivery result");
}

}  // namespace

absl::Status PgOutbox::ReplaceDeadRegistration(Session& s,
                                               const std::string& code,
                                               absl::Time now) {
  PgPushStore store(s, cipher_, outbox_id_, now);
  LIENTHONG_ASSIGN_OR_RETURN(DossierHead head, store.ReadHead(code));
  LIENTHONG_ASSIGN_OR_RETURN(
      const int64_t moved,
      store.SupersedeDeadRegistration(code, head.last_seq));
  if (moved == 0) return absl::OkStatus();
  // Pushes go on after the items it moved.
  head.last_seq += moved;
  return WriteHead(s, code, head);
}

absl::StatusOr<PushResult> PgOutbox::PushDossierUpdates(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  const absl::Time now = options_.clock->Now();
  LIENTHONG_RETURN_IF_ERROR(outbox_internal::ValidatePush(updates, now));
  outbox_internal::PushPlan plan;
  LIENTHONG_RETURN_IF_ERROR(pool_->Transact([&](Session& s) {
    plan = outbox_internal::PushPlan();  // a retried transaction starts over
    PgPushStore store(s, cipher_, outbox_id_, now);
    for (int i = 0; i < updates.size(); ++i) {
      LIENTHONG_RETURN_IF_ERROR(
          outbox_internal::PushOneUpdate(updates[i], i, cipher_, store, plan));
    }
    for (const auto& [code, head] : plan.heads) {
      if (head.last_seq == 0) continue;
      LIENTHONG_RETURN_IF_ERROR(WriteHead(s, code, head));
    }
    return absl::OkStatus();
  }));
  if (plan.result.accepted == 0 && plan.result.registrations == 0) {
    return plan.result;
  }
  PollAt(now);
  NotifyWork();
  return plan.result;
}

absl::Status PgOutbox::RecordResult(Session& s, const DeliveryResult& r,
                                    absl::Time now,
                                    std::vector<std::string>& jobs,
                                    std::vector<int64_t>& lost) {
  if (r.kind == DeliveryResult::Kind::kDead) {
    // A dead registration may be replaced below, which moves its dossier's
    // items: the dossier's row is locked first, as a push locks it before
    // them, so that the two wait for each other rather than deadlock.
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("SELECT 1 FROM outbox_dossiers d JOIN outbox_items i ON "
               "d.code=i.key WHERE i.id=$1 AND i.kind=2 AND i.registration "
               "FOR UPDATE OF d",
               {Num(r.id)})
            .status());
  }
  // Each counts only while this replica holds the item's lease.
  absl::StatusOr<Result> done = FinishLeased(s, r, owner_, now);
  LIENTHONG_RETURN_IF_ERROR(done.status());
  if (done->rows() == 0) {
    lost.push_back(r.id);
    return absl::OkStatus();
  }
  if (r.kind == DeliveryResult::Kind::kDead &&
      done->Int64(0, 0) == static_cast<int>(ItemKind::kDossier) &&
      done->Text(0, 5) == "t") {
    LIENTHONG_RETURN_IF_ERROR(
        ReplaceDeadRegistration(s, done->Text(0, 1), now));
  }
  const bool procedure =
      done->Int64(0, 0) == static_cast<int>(ItemKind::kProcedure);
  if (procedure && r.kind == DeliveryResult::Kind::kDead) {
    // A change of the procedure queued behind it (while it was on its way)
    // replaces it: each holds the procedure whole, and this one, retried,
    // would send the refused content again.
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec(absl::StrCat(
                   "UPDATE outbox_items d SET state=",
                   static_cast<int>(ItemState::kSuperseded),
                   ", finished_at=$2, last_error=NULL WHERE d.id=$1 AND "
                   "EXISTS (SELECT 1 FROM outbox_items l WHERE l.kind=d.kind "
                   "AND l.key=d.key AND l.seq>d.seq AND l.state=",
                   static_cast<int>(ItemState::kPending), ")"),
               {Num(r.id), Num(Micros(now))})
            .status());
  }
  if (procedure && r.kind == DeliveryResult::Kind::kDelivered) {
    // The portal now holds this content (none after a withdrawal).
    const bool withdraw = done->Text(0, 2) == "t";
    LIENTHONG_RETURN_IF_ERROR(
        s.Exec("UPDATE outbox_procedures SET acked_hash=$2 WHERE code=$1",
               {done->Text(0, 1),
                withdraw ? std::nullopt : done->OptionalText(0, 3)})
            .status());
  }
  const std::optional<std::string> job = done->OptionalText(0, 4);
  if (!job.has_value() || (r.kind != DeliveryResult::Kind::kDelivered &&
                           r.kind != DeliveryResult::Kind::kDead)) {
    return absl::OkStatus();
  }
  LIENTHONG_RETURN_IF_ERROR(CountInJob(
      s, *job, r.kind == DeliveryResult::Kind::kDelivered ? "delivered" : "dead",
      1, now));
  jobs.push_back(*job);
  return absl::OkStatus();
}

std::string PgOutbox::OpenPayload(const Result& r, int row,
                                  OutboxItem& item) const {
  const int64_t kind = r.Int64(row, 1);
  if (kind == static_cast<int>(ItemKind::kProcedure)) {
    item.kind = ItemKind::kProcedure;
    if (!item.procedure.ParseFromString(r.Bytea(row, 5))) {
      return "stored item unreadable";
    }
    item.portal_has_procedure = r.Text(row, 13) == "t";
    return "";
  }
  if (kind != static_cast<int>(ItemKind::kDossier) || r.Text(row, 11) != "t") {
    return "stored item unreadable";
  }
  item.kind = ItemKind::kDossier;
  absl::StatusOr<std::string> opened =
      cipher_.Open(r.Bytea(row, 5), SealedPlace(item.key, item.sequence));
  if (!opened.ok()) return std::string(opened.status().message());
  if (!item.dossier.ParseFromString(*opened)) return "stored item unreadable";
  return "";
}

absl::Status PgOutbox::Claim(Session& s, int max_claims, absl::Time now,
                             const std::string& held,
                             std::vector<OutboxItem>& claimed,
                             std::vector<std::string>& jobs) {
  // Heads only: no open item of the same key with a lower sequence. Rows
  // another replica is claiming are skipped, not waited for. An expired
  // lease is taken over unless this process's worker holds the item.
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r,
      s.Exec(
          "WITH due AS (SELECT i.id, i.sent AS was_sent FROM outbox_items i "
          "WHERE ((i.state=0 AND i.next_attempt_at<=$1) OR (i.state=1 AND "
          "i.lease_until<" LIENTHONG_PG_NOW_US " AND NOT (i.lease_owner=$2 AND "
          "i.id = ANY($5::bigint[])))) "
          "AND NOT EXISTS (SELECT 1 FROM outbox_items j WHERE "
          "j.kind=i.kind AND j.key=i.key AND j.seq<i.seq AND "
          "j.state IN (0, 1, 3)) "
          "ORDER BY i.next_attempt_at, i.id LIMIT $3 "
          "FOR UPDATE OF i SKIP LOCKED) "
          "UPDATE outbox_items o SET state=1, sent=true, lease_owner=$2, "
          "lease_until=" LIENTHONG_PG_NOW_US "+$4 FROM due WHERE o.id=due.id "
          "RETURNING o.id, o.kind, o.key, o.seq, o.withdraw, o.payload, "
          "o.idempotency_key, o.attempts, o.first_failure_at, o.job_id, "
          "o.registration, o.sealed, due.was_sent, "
          "(o.kind=1 AND EXISTS (SELECT 1 FROM outbox_procedures p WHERE "
          "p.code=o.key AND p.acked_hash IS NOT NULL))",
          {Num(Micros(now)), owner_, Num(max_claims),
           Num(absl::ToInt64Microseconds(options_.lease)), held}));
  for (int row = 0; row < r.rows(); ++row) {
    OutboxItem item;
    item.id = r.Int64(row, 0);
    item.key = r.Text(row, 2);
    item.sequence = r.Int64(row, 3);
    item.withdraw = r.Text(row, 4) == "t";
    item.idempotency_key = r.Text(row, 6);
    item.attempts = static_cast<int>(r.Int64(row, 7));
    if (!r.IsNull(row, 8)) item.first_failure = FromMicros(r.Int64(row, 8));
    item.job_id = r.OptionalText(row, 9).value_or("");
    item.registration = r.Text(row, 10) == "t";
    item.maybe_sent = r.Text(row, 12) == "t";
    const std::string unreadable = OpenPayload(r, row, item);
    if (!unreadable.empty()) {
      LIENTHONG_RETURN_IF_ERROR(ParkUnreadable(
          s, item,
          r.Int64(row, 1) == static_cast<int>(ItemKind::kDossier) &&
              item.registration,
          unreadable, now, jobs));
      continue;
    }
    if (!item.job_id.empty()) {
      LIENTHONG_ASSIGN_OR_RETURN(
          Result started,
          s.Exec("UPDATE outbox_jobs SET started=true, updated_at=$2 "
                 "WHERE id=$1 AND NOT started",
                 {item.job_id, Num(Micros(now))}));
      if (started.affected() > 0) jobs.push_back(item.job_id);
    }
    claimed.push_back(std::move(item));
  }
  return absl::OkStatus();
}

absl::Status PgOutbox::ParkUnreadable(Session& s, const OutboxItem& item,
                                      bool dossier_registration,
                                      const std::string& why, absl::Time now,
                                      std::vector<std::string>& jobs) {
  // Parked where an operator sees it rather than block its queue; a dead
  // letter like any other for its job.
  LIENTHONG_RETURN_IF_ERROR(
      s.Exec("UPDATE outbox_items SET state=3, last_error=$2, "
             "finished_at=$3, lease_owner=NULL, lease_until=NULL WHERE id=$1",
             {Num(item.id), why, Num(Micros(now))})
          .status());
  if (!item.job_id.empty()) {
    LIENTHONG_RETURN_IF_ERROR(CountInJob(s, item.job_id, "dead", 1, now));
    jobs.push_back(item.job_id);
  }
  if (!dossier_registration) return absl::OkStatus();
  // Dead as a refused registration is, and replaced as one is. The claim
  // has locked the item before its dossier's row, against a push's order:
  // should the two deadlock, one is retried (pg::Pool::Transact).
  return ReplaceDeadRegistration(s, item.key, now);
}

absl::StatusOr<std::vector<OutboxItem>> PgOutbox::FinishAndClaim(
    absl::Span<const DeliveryResult> finished, int max_claims) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  const absl::Time now = options_.clock->Now();
  std::vector<OutboxItem> claimed;
  if (finished.empty() && max_claims <= 0) return claimed;
  int found = 0;
  std::vector<std::string> jobs;
  std::vector<int64_t> lost;
  const std::string held = HeldArray();
  LIENTHONG_RETURN_IF_ERROR(pool_->Transact([&](Session& s) {
    claimed.clear();
    jobs.clear();
    lost.clear();
    for (const DeliveryResult& r : finished) {
      LIENTHONG_RETURN_IF_ERROR(RecordResult(s, r, now, jobs, lost));
    }
    if (max_claims <= 0) return absl::OkStatus();
    LIENTHONG_RETURN_IF_ERROR(Claim(s, max_claims, now, held, claimed, jobs));
    found = static_cast<int>(claimed.size());
    return absl::OkStatus();
  }));
  // Only now, the commit known: on an error the results stay held (the
  // worker records them again) and the claims, if they were committed, are
  // left to their leases.
  {
    absl::MutexLock lock(&mu_);
    for (const DeliveryResult& r : finished) held_.erase(r.id);
    for (const OutboxItem& item : claimed) held_.insert(item.id);
  }
  for (int64_t id : lost) {
    lost_leases_.fetch_add(1);
    log::Warning(
        "portal sync: a delivery's lease had passed to another "
        "replica; its result is dropped",
        {{"item", absl::StrCat(id)}});
  }
  outbox_internal::SortUnique(jobs);
  NotifyJobs(jobs);
  if (max_claims > 0) {
    // A full claim may have left more behind; otherwise look again later.
    PollAt(found >= max_claims ? now : now + options_.poll_interval);
  }
  return claimed;
}

absl::StatusOr<lienthong::v1::ListDeadLettersResponse>
PgOutbox::ListDeadLetters(int page_size, absl::string_view page_token) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  int64_t after = 0;
  LIENTHONG_RETURN_IF_ERROR(
      outbox_internal::ParsePage(page_size, page_token, after));
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r,
      pool_->Run("SELECT id, kind, key, last_error, attempts, finished_at, "
                 "registration FROM outbox_items WHERE state=3 AND id>$1 "
                 "ORDER BY id LIMIT $2",
                 {Num(after), Num(page_size + 1)}));
  lienthong::v1::ListDeadLettersResponse response;
  for (int row = 0; row < r.rows(); ++row) {
    if (row == page_size) {
      response.set_next_page_token(
          response.dead_letters(page_size - 1).id());
      break;
    }
    const int64_t kind = r.Int64(row, 1);
    if (kind != 1 && kind != 2) {
      return absl::DataLossError("outbox: a dead letter has an unknown kind");
    }
    lienthong::v1::DeadLetter* letter = response.add_dead_letters();
    letter->set_id(r.Text(row, 0));
    letter->set_kind(r.Text(row, 6) == "t"
                         ? "registration"
                         : std::string(ItemKindName(static_cast<ItemKind>(kind))));
    letter->set_code(r.Text(row, 2));
    letter->set_reason(r.OptionalText(row, 3).value_or(""));
    letter->set_attempts(static_cast<int32_t>(r.Int64(row, 4)));
    if (!r.IsNull(row, 5)) {
      *letter->mutable_failed_at() =
          outbox_internal::ToProtoTime(FromMicros(r.Int64(row, 5)));
    }
  }
  return response;
}

absl::StatusOr<int> PgOutbox::RetryDeadLetters(
    absl::Span<const std::string> ids) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<int64_t> wanted,
                             outbox_internal::ParseDeadLetterIds(ids));
  const absl::Time now = options_.clock->Now();
  std::string wanted_sql = "{";
  for (size_t i = 0; i < wanted.size(); ++i) {
    absl::StrAppend(&wanted_sql, i == 0 ? "" : ",", wanted[i]);
  }
  wanted_sql += "}";
  int requeued = 0;
  std::vector<std::string> jobs;
  LIENTHONG_RETURN_IF_ERROR(pool_->Transact([&](Session& s) {
    jobs.clear();
    LIENTHONG_ASSIGN_OR_RETURN(
        Result dead,
        s.Exec("SELECT id, kind, key, seq, key_generation, refused, job_id FROM "
               "outbox_items WHERE state=3 AND ($1 OR id = ANY($2::bigint[])) "
               "ORDER BY id FOR UPDATE",
               {Bool(wanted.empty()), wanted_sql}));
    requeued = dead.rows();
    for (int row = 0; row < dead.rows(); ++row) {
      // A refused item needs a new key (the portal answers a known key with
      // its first answer); one that only failed keeps its key.
      const int64_t generation =
          dead.Int64(row, 4) + (dead.Text(row, 5) == "t" ? 1 : 0);
      const std::string key = outbox_internal::IdempotencyKey(
          outbox_id_, static_cast<ItemKind>(dead.Int64(row, 1)),
          dead.Int64(row, 3), dead.Text(row, 2), generation);
      LIENTHONG_RETURN_IF_ERROR(
          s.Exec("UPDATE outbox_items SET state=0, next_attempt_at=$2, "
                 "first_failure_at=NULL, refused=false, key_generation=$3, "
                 "idempotency_key=$4, finished_at=NULL WHERE id=$1",
                 {dead.Text(row, 0), Num(Micros(now)), Num(generation), key})
              .status());
      if (std::optional<std::string> job = dead.OptionalText(row, 6)) {
        LIENTHONG_RETURN_IF_ERROR(CountInJob(s, *job, "dead", -1, now));
        jobs.push_back(*job);
      }
    }
    return absl::OkStatus();
  }));
  outbox_internal::SortUnique(jobs);
  if (requeued > 0) {
    PollAt(now);
    NotifyWork();
    NotifyJobs(jobs);
  }
  return requeued;
}

absl::StatusOr<PruneProgress> PgOutbox::PruneDelivered(
    absl::Time finished_before, int max_examined) {
  LIENTHONG_RETURN_IF_ERROR(Usable());
  // As outbox.h says, a dossier's delivered updates dated at its last
  // accepted time, but for that update, stay for duplicate detection. They
  // are passed over in the choice of the oldest rows, so that the rows
  // kept never fill a step and the pass goes past them.
  LIENTHONG_ASSIGN_OR_RETURN(
      Result r,
      pool_->Run(
          "WITH old AS (SELECT i.id FROM outbox_items i WHERE i.state=2 AND "
          "i.finished_at<$1 AND NOT EXISTS (SELECT 1 FROM outbox_dossiers d "
          "WHERE i.kind=2 AND i.dedup_key IS NOT NULL AND d.code=i.key AND "
          "i.item_time = d.last_time_s*1000000 + d.last_time_ns/1000 AND "
          "i.dedup_key <> d.code || '|' || d.last_status || '|' || "
          "d.last_time_s || '.' || d.last_time_ns) "
          "ORDER BY i.finished_at LIMIT $2), "
          "gone AS (DELETE FROM outbox_items i USING old WHERE i.id=old.id "
          "RETURNING 1) "
          "SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM gone)",
          {Num(Micros(finished_before)), Num(max_examined)}));
  PruneProgress progress;
  progress.examined = r.Int64(0, 0);
  progress.deleted = r.Int64(0, 1);
  // Finished jobs, that long after their last change: none of their items
  // pending, in flight or a dead letter.
  LIENTHONG_ASSIGN_OR_RETURN(
      Result jobs,
      pool_->Run("WITH old AS (SELECT id FROM outbox_jobs j WHERE "
                 "updated_at<$1 AND NOT EXISTS (SELECT 1 FROM outbox_items i "
                 "WHERE i.job_id=j.id AND i.state IN (0, 1, 3)) LIMIT $2), "
                 "gone AS (DELETE FROM outbox_jobs j USING old WHERE "
                 "j.id=old.id RETURNING 1) SELECT count(*) FROM gone",
                 {Num(Micros(finished_before)), Num(max_examined)}));
  progress.jobs_deleted = jobs.Int64(0, 0);
  progress.jobs_examined = progress.jobs_deleted;
  // Fewer than asked for: nothing older is left to delete. (None deleted
  // of those chosen: another replica took them; ending the pass is safe.)
  progress.pass_done = progress.examined < max_examined || progress.deleted == 0;
  return progress;
}

}  // namespace lienthong::sync
