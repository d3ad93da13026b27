// Drives an Outbox (gateway/sync/outbox.h) as the delivery worker does, one
// call at a time, for tests that must hold of both stores (SQLite and
// PostgreSQL): claims, results, the order items come in, the dead letters;
// and the dossier scenarios those tests share. A call that fails is a test
// failure. All personal data in them is synthetic.
#ifndef LIENTHONG_TESTS_GATEWAY_SYNC_OUTBOX_DRIVER_H_
#define LIENTHONG_TESTS_GATEWAY_SYNC_OUTBOX_DRIVER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/sync/outbox.h"
#include "gtest/gtest.h"
#include "tests/gateway/sync/dossier_fixtures.h"

namespace lienthong::sync::testing {

// The applicants of dossier 1's registrations in the scenarios below: the
// first, and its corrections.
inline constexpr char kFirstApplicant[] = "Trần Thị Mai";
inline constexpr char kCorrectedApplicant[] = "Trần Thị Mây";
inline constexpr char kRecorrectedApplicant[] = "Trần Thị Mơ";

// Claims up to 10 due items.
inline std::vector<OutboxItem> Claim(Outbox& outbox) {
  absl::StatusOr<std::vector<OutboxItem>> claimed =
      outbox.FinishAndClaim({}, 10);
  EXPECT_TRUE(claimed.ok()) << claimed.status();
  return claimed.ok() ? *std::move(claimed) : std::vector<OutboxItem>{};
}

// Records `finished` and claims nothing: PostgreSQL's store would claim in
// the same transaction, SQLite's only once the order in memory has moved.
inline void Record(Outbox& outbox,
                   const std::vector<DeliveryResult>& finished) {
  absl::StatusOr<std::vector<OutboxItem>> claimed =
      outbox.FinishAndClaim(finished, 0);
  EXPECT_TRUE(claimed.ok()) << claimed.status();
}

inline DeliveryResult Delivered(const OutboxItem& item) {
  DeliveryResult r;
  r.id = item.id;
  r.kind = DeliveryResult::Kind::kDelivered;
  return r;
}

// A dead letter: refused by the portal, or given up after failing too long.
inline DeliveryResult Dead(const OutboxItem& item, bool refused) {
  DeliveryResult r;
  r.id = item.id;
  r.kind = DeliveryResult::Kind::kDead;
  r.refused = refused;
  r.message = refused ? "the portal refused it: Từ chối"
                      : "the portal is unavailable (HTTP 503)";
  return r;
}

// "<sequence> registration <applicant>" or "<sequence> step <status>".
inline std::string Describe(const OutboxItem& item) {
  return absl::StrCat(
      item.sequence, item.registration ? " registration " : " step ",
      item.registration ? item.dossier.registration().applicant().name()
                        : DossierStatusName(item.dossier.status()));
}

// Claims and delivers one item at a time until none is due; returns each
// (Describe). `check` sees each first. REQUIRES: one key has items.
inline std::vector<std::string> DeliverOneByOne(
    Outbox& outbox, const std::function<void(const OutboxItem&)>& check = {}) {
  std::vector<std::string> order;
  for (int i = 0; i < 20; ++i) {
    std::vector<OutboxItem> items = Claim(outbox);
    if (items.empty()) break;
    EXPECT_EQ(items.size(), 1u) << "more than one key has items";
    if (check) check(items[0]);
    order.push_back(Describe(items[0]));
    Record(outbox, {Delivered(items[0])});
  }
  return order;
}

// The dead letters as "<kind> <code>", by id.
inline std::vector<std::string> DeadLetters(Outbox& outbox) {
  std::vector<std::string> letters;
  auto page = outbox.ListDeadLetters(0, "");
  EXPECT_TRUE(page.ok()) << page.status();
  if (!page.ok()) return letters;
  for (const lienthong::v1::DeadLetter& letter : page->dead_letters()) {
    letters.push_back(absl::StrCat(letter.kind(), " ", letter.code()));
  }
  return letters;
}

// Pushes `updates` as one batch; its result, default on failure.
inline PushResult Push(
    Outbox& outbox, std::vector<lienthong::v1::DossierStatusUpdate> updates) {
  absl::StatusOr<PushResult> pushed =
      outbox.PushDossierUpdates(testutil::Batch(std::move(updates)));
  EXPECT_TRUE(pushed.ok()) << pushed.status();
  return pushed.ok() ? *pushed : PushResult{};
}

// Dossier 1 registered (kFirstApplicant) with NEW; then, that registration
// still pending, registered again corrected (kCorrectedApplicant) with
// ACCEPTED: sequences 1 (registration), 2 (NEW), 3 (registration),
// 4 (ACCEPTED). Returns the first registration, claimed.
inline OutboxItem QueueACorrectionBehindAPendingRegistration(Outbox& outbox) {
  using testutil::Registered;
  using testutil::StatusUpdate;
  Push(outbox,
       {Registered(StatusUpdate(1, lienthong::v1::NEW, 0), kFirstApplicant)});
  const PushResult corrected =
      Push(outbox, {Registered(StatusUpdate(1, lienthong::v1::ACCEPTED, 1),
                               kCorrectedApplicant)});
  EXPECT_EQ(corrected.registrations, 1);
  EXPECT_EQ(corrected.accepted, 1);
  std::vector<OutboxItem> claimed = Claim(outbox);
  EXPECT_EQ(claimed.size(), 1u);
  if (claimed.empty()) return OutboxItem{};
  EXPECT_EQ(Describe(claimed[0]),
            absl::StrCat("1 registration ", kFirstApplicant));
  return claimed[0];
}

}  // namespace lienthong::sync::testing

#endif  // LIENTHONG_TESTS_GATEWAY_SYNC_OUTBOX_DRIVER_H_
