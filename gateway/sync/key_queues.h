// KeyQueues: the outbox's order of open items in memory. Items are grouped
// by key ("p<MaTTHC>" or "d<MaHoSo>", see outbox.h) and ordered by their
// sequence within it; only the first open item of a key (its head) may be
// claimed, and only while pending, so a key has at most one item in flight
// and its items leave in order. Pending heads are handed out oldest due
// first (ties by id), whatever their key: a key with many items waiting
// gets one turn like any other.
//
// It holds no data of its own: the outbox's database is the truth, and the
// outbox applies a change here only after the transaction that made it
// durable committed (and rebuilds it at Open()).
//
// Thread-compatible: the outbox calls it under its lock.
#ifndef LIENTHONG_GATEWAY_SYNC_KEY_QUEUES_H_
#define LIENTHONG_GATEWAY_SYNC_KEY_QUEUES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "gateway/sync/outbox_states.h"

namespace lienthong::sync {

class KeyQueues {
 public:
  // An open item: pending, in flight or dead.
  struct Item {
    int64_t id = 0;
    ItemState state = ItemState::kPending;
    // When a pending item may be claimed.
    absl::Time due = absl::InfinitePast();
  };
  // A head that may be claimed.
  struct Head {
    int64_t id = 0;
    std::string key;
  };
  // How a claimed item's flight ended.
  enum class Landing {
    kDelivered,  // it leaves its queue; the next item becomes the head
    kPending,    // pending again (due at the time given, else as before)
    kDead,       // a dead letter: it blocks its key until put back
  };
  struct Counts {
    int64_t pending = 0;
    int64_t in_flight = 0;
    int64_t dead = 0;
  };

  // Forgets every item.
  void Clear();

  // Sets item `seq` of `key`, adding it or replacing what was there (a new
  // item, one loaded at start, a dead letter put back). An item set in
  // flight here is not known as claimed: call Claim() for that.
  void Put(const std::string& key, int64_t seq, const Item& item);

  // Removes item `seq` of `key` (a superseded dead letter); no-op when
  // absent.
  void Erase(const std::string& key, int64_t seq);

  // Returns up to `max` pending heads due at or before `now`, oldest due
  // first, ties by id. Changes nothing.
  std::vector<Head> Due(absl::Time now, int max) const;

  // Marks item `id` of `key` in flight. Returns false when the key holds no
  // such item. REQUIRES: it is a pending head (one Due() returned).
  bool Claim(int64_t id, const std::string& key);

  // Marks item `id` of `key` dead without a flight (an item that could not
  // be read when claimed). Returns false when the key holds no such item.
  bool Park(int64_t id, const std::string& key);

  // Ends the flight of item `id` as `landing` says; for kPending, `due`
  // (when given) is its new due time. Returns false, changing nothing, when
  // `id` is not in flight.
  bool Land(int64_t id, Landing landing,
            std::optional<absl::Time> due = std::nullopt);

  // Makes every key whose head is pending and due after `now` due at `now`
  // (the pending items behind that head too).
  void Expedite(absl::Time now);

  // The earliest due time of a pending head; nullopt when none is pending.
  std::optional<absl::Time> NextDue() const;

  // True when `key` has a pending or in-flight item.
  bool HasQueued(const std::string& key) const;

  // True when `key` has a pending item.
  bool HasPending(const std::string& key) const;

  // The (sequence, id) of `key`'s dead items, by sequence.
  std::vector<std::pair<int64_t, int64_t>> DeadItems(
      const std::string& key) const;

  // The open items by state; a walk over all of them.
  Counts OpenCounts() const;

 private:
  using ReadyAt = std::pair<absl::Time, int64_t>;  // (due, id)
  struct Queue {
    std::map<int64_t, Item> items;  // by sequence
    // The head's place in ready_ while it is pending.
    std::optional<ReadyAt> ready_at;
  };

  Item* Find(int64_t id, const std::string& key);
  // Puts the key's head in ready_ when pending, takes it out otherwise;
  // drops the key when it holds nothing.
  void Reindex(const std::string& key);

  absl::flat_hash_map<std::string, Queue> queues_;
  // Pending heads by (due, id) -> key.
  std::map<ReadyAt, std::string> ready_;
  // Claimed items: id -> key.
  absl::flat_hash_map<int64_t, std::string> in_flight_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_KEY_QUEUES_H_
