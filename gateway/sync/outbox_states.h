// The kinds and states of the outbox's items (see outbox.h), as stored in
// its database: the numbers are part of the file format and never change.
// Statements bind them from these enums (storage::Statement::Bind) and read
// them back as one of kItemKinds / kItemStates (Statement::Enum).
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_STATES_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_STATES_H_

namespace lienthong::sync {

enum class ItemKind { kProcedure = 1, kDossier = 2 };
enum class ItemState {
  kPending = 0,
  kInFlight = 1,
  kDelivered = 2,
  kDead = 3,
  // Replaced by a later change, never to be sent: a dead procedure item,
  // a dead dossier registration (and registrations queued behind it).
  kSuperseded = 4,
};

inline constexpr ItemKind kItemKinds[] = {ItemKind::kProcedure,
                                          ItemKind::kDossier};
inline constexpr ItemState kItemStates[] = {
    ItemState::kPending, ItemState::kInFlight, ItemState::kDelivered,
    ItemState::kDead, ItemState::kSuperseded};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_STATES_H_
