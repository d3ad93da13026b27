#include "gateway/sync/outbox_push.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/proto_util/deterministic.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/outbox_internal.h"

namespace lienthong::sync::outbox_internal {

using lienthong::v1::DossierStatus;
using lienthong::v1::DossierStatusUpdate;

namespace {

// What a registration sends besides the status: MaTTHC and the registration
// itself, serialized deterministically.
std::string RegistrationContent(const DossierStatusUpdate& u) {
  DossierStatusUpdate content;
  content.set_procedure_code(u.procedure_code());
  *content.mutable_registration() = u.registration();
  std::string bytes;
  proto_util::AppendDeterministic(content, &bytes);
  return bytes;
}

// Why update `index` may not follow `head`: no registration ever, a
// transition the rules refuse, a time before the last accepted one.
absl::Status CheckFollows(const DossierStatusUpdate& u, int index,
                          const DossierHead& head, bool registering) {
  if (!head.registration.has_value() && !registering) {
    return absl::InvalidArgumentError(
        absl::StrCat("updates[", index,
                     "].registration: required with the first update "
                     "of dossier ",
                     u.dossier_code(),
                     ", which the gateway has not registered with the portal"));
  }
  std::optional<DossierStatus> last;
  if (head.last_seq > 0) last = head.status;
  if (absl::Status s = CheckTransition(u.dossier_code(), last, u.status());
      !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("updates[", index, "]: ", s.message()));
  }
  if (last.has_value() && TimeOf(u) < head.time) {
    return absl::FailedPreconditionError(
        absl::StrCat("updates[", index, "]: dossier ", u.dossier_code(), ": ",
                     DossierStatusName(u.status()),
                     " is dated before the last accepted status ",
                     DossierStatusName(*last)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Time TimeOf(const DossierStatusUpdate& u) {
  return absl::FromUnixSeconds(u.time().seconds()) +
         absl::Nanoseconds(u.time().nanos());
}

absl::Status ValidatePush(
    const google::protobuf::RepeatedPtrField<DossierStatusUpdate>& updates,
    absl::Time now) {
  for (int i = 0; i < updates.size(); ++i) {
    if (absl::Status s = ValidateDossierUpdate(updates[i], now); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("updates[", i, "].", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status PushOneUpdate(const DossierStatusUpdate& u, int index,
                           const OutboxCipher& cipher, PushStore& store,
                           PushPlan& plan) {
  auto head_it = plan.heads.find(u.dossier_code());
  if (head_it == plan.heads.end()) {
    LIENTHONG_ASSIGN_OR_RETURN(DossierHead head,
                               store.ReadHead(u.dossier_code()));
    head_it = plan.heads.emplace(u.dossier_code(), std::move(head)).first;
  }
  DossierHead& head = head_it->second;
  // A registration given again is sent again only when it changed, and
  // even along with a repeat of the last accepted update, but not with a
  // repeat of an older one: its registration is older too, and the item
  // would send it with the older status after the newer ones.
  std::optional<std::string> registration;
  if (u.has_registration()) {
    std::string digest = cipher.Digest(RegistrationContent(u));
    if (digest != head.registration) registration = std::move(digest);
  }
  // The progress item carries no registration: its personal data waits
  // only as long as the registration needs to.
  DossierStatusUpdate step = u;
  step.clear_registration();
  std::string content = cipher.Digest(step.SerializeAsString());
  std::string dedup = DedupKey(u);
  // An update is known by its dossier, status and time: one that repeats
  // them with other content (another officer, another note) is not the
  // same update, and would otherwise be taken for a repeat and never sent.
  std::optional<std::string> known;
  if (auto it = plan.batch_keys.find(dedup); it != plan.batch_keys.end()) {
    known = it->second;
  }
  bool duplicate = known.has_value();
  if (!duplicate) {
    LIENTHONG_ASSIGN_OR_RETURN(std::optional<PushStore::QueuedUpdate> queued,
                               store.Queued(dedup));
    duplicate = queued.has_value();
    if (duplicate) known = queued->content;
  }
  if (known.has_value() && *known != content) {
    return absl::FailedPreconditionError(absl::StrCat(
        "updates[", index, "]: dossier ", u.dossier_code(),
        " already has an accepted ", DossierStatusName(u.status()),
        " update at this time (ThoiDiemXuLy) with other content; an update "
        "is known by its dossier, status and time: give this step its own "
        "time"));
  }
  const absl::Time time = TimeOf(u);
  // The last accepted update again, its item possibly pruned.
  const bool latest =
      head.last_seq > 0 && u.status() == head.status && time == head.time;
  if (duplicate && !latest) registration.reset();
  duplicate = duplicate || latest;
  if (!duplicate) {
    LIENTHONG_RETURN_IF_ERROR(
        CheckFollows(u, index, head, registration.has_value()));
  }
  if (registration.has_value()) {
    const int64_t seq = ++head.last_seq;
    LIENTHONG_RETURN_IF_ERROR(store.Insert(u, seq, /*registration=*/true,
                                           std::nullopt, std::nullopt));
    // A refused registration blocks its dossier, and retried it is sent as
    // it was and refused again: the changed one replaces it, ahead of the
    // steps that waited for it (the portal shows progress only of
    // registered dossiers). A dead step is not replaced: it is part of the
    // dossier's history, which a registration does not carry. (A
    // registration that dies after this one was queued is replaced by the
    // store when it dies.)
    LIENTHONG_ASSIGN_OR_RETURN(
        const int64_t moved,
        store.SupersedeDeadRegistration(u.dossier_code(), head.last_seq));
    head.last_seq += moved;
    head.registration = std::move(registration);
    ++plan.result.registrations;
  }
  if (duplicate) {
    ++plan.result.duplicates;
    return absl::OkStatus();
  }
  LIENTHONG_RETURN_IF_ERROR(store.Insert(step, ++head.last_seq,
                                         /*registration=*/false, dedup,
                                         content));
  head.status = u.status();
  head.time = time;
  plan.batch_keys.emplace(std::move(dedup), std::move(content));
  ++plan.result.accepted;
  return absl::OkStatus();
}

void CountPlanStep(const lienthong::v1::ProcedurePlan& step,
                   lienthong::v1::SyncProceduresResponse& response) {
  using lienthong::v1::ProcedurePlan;
  switch (step.action()) {
    case ProcedurePlan::CREATE:
      response.set_creates(response.creates() + 1);
      break;
    case ProcedurePlan::UPDATE:
      response.set_updates(response.updates() + 1);
      break;
    case ProcedurePlan::WITHDRAW:
      response.set_withdrawals(response.withdrawals() + 1);
      break;
    default:
      response.set_unchanged(response.unchanged() + 1);
      break;
  }
  *response.add_plan() = step;
}

std::vector<PlannedChange> PlannedChanges(
    const std::vector<lienthong::v1::ProcedurePlan>& plan,
    const lienthong::v1::SyncProceduresRequest& request,
    const std::vector<CatalogueEntry>& entries) {
  using lienthong::v1::ProcedurePlan;
  // Plan steps name codes; this finds their content in the request.
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < request.procedures_size(); ++i) {
    index[request.procedures(i).code()] = i;
  }
  std::vector<PlannedChange> changes;
  for (const ProcedurePlan& step : plan) {
    if (step.action() == ProcedurePlan::UNCHANGED) continue;
    PlannedChange& change = changes.emplace_back();
    if (step.action() == ProcedurePlan::WITHDRAW) {
      change.payload.set_code(step.code());
    } else {
      const int i = index.at(step.code());
      change.payload = request.procedures(i);
      change.hash = entries[i].hash;
    }
  }
  return changes;
}

std::string NewJobId(absl::Time now) {
  absl::BitGen gen;
  return absl::StrFormat(
      "job-%s-%06x", absl::FormatTime("%Y%m%d%H%M%S", now, absl::UTCTimeZone()),
      absl::Uniform<uint32_t>(gen, 0, 1u << 24));
}

lienthong::v1::SyncJob JobOf(absl::string_view job_id, int total,
                             int delivered, int dead, bool started,
                             absl::Time created, absl::Time updated) {
  lienthong::v1::SyncJob job;
  job.set_job_id(std::string(job_id));
  job.set_total(total);
  job.set_delivered(delivered);
  job.set_dead_lettered(dead);
  if (job.delivered() + job.dead_lettered() >= job.total()) {
    job.set_state(job.dead_lettered() > 0
                      ? lienthong::v1::SyncJob::DONE_WITH_ERRORS
                      : lienthong::v1::SyncJob::DONE);
  } else {
    job.set_state(started ? lienthong::v1::SyncJob::RUNNING
                          : lienthong::v1::SyncJob::QUEUED);
  }
  *job.mutable_created() = ToProtoTime(created);
  *job.mutable_updated() = ToProtoTime(updated);
  return job;
}

}  // namespace lienthong::sync::outbox_internal
