#include "gateway/sync/outbox_push.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/outbox_internal.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

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
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    content.SerializeToCodedStream(&out);
  }
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
  // even along with an update that is a repeat.
  std::optional<std::string> registration;
  if (u.has_registration()) {
    std::string digest = cipher.Digest(RegistrationContent(u));
    if (digest != head.registration) registration = std::move(digest);
  }
  std::string dedup = DedupKey(u);
  bool duplicate = plan.batch_keys.contains(dedup);
  if (!duplicate) {
    LIENTHONG_ASSIGN_OR_RETURN(duplicate, store.Queued(dedup));
  }
  const absl::Time time = TimeOf(u);
  // The last accepted update again, its item possibly pruned.
  duplicate = duplicate || (head.last_seq > 0 && u.status() == head.status &&
                            time == head.time);
  if (!duplicate) {
    LIENTHONG_RETURN_IF_ERROR(
        CheckFollows(u, index, head, registration.has_value()));
  }
  if (registration.has_value()) {
    LIENTHONG_RETURN_IF_ERROR(store.Insert(u, ++head.last_seq,
                                           /*registration=*/true,
                                           std::nullopt));
    head.registration = std::move(registration);
    ++plan.result.registrations;
  }
  if (duplicate) {
    ++plan.result.duplicates;
    return absl::OkStatus();
  }
  // The progress item carries no registration: its personal data waits
  // only as long as the registration needs to.
  DossierStatusUpdate step = u;
  step.clear_registration();
  LIENTHONG_RETURN_IF_ERROR(
      store.Insert(step, ++head.last_seq, /*registration=*/false, dedup));
  head.status = u.status();
  head.time = time;
  plan.batch_keys.insert(std::move(dedup));
  ++plan.result.accepted;
  return absl::OkStatus();
}

}  // namespace lienthong::sync::outbox_internal
