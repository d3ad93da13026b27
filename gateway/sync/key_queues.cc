#include "gateway/sync/key_queues.h"

#include <limits>

namespace lienthong::sync {

void KeyQueues::Clear() {
  queues_.clear();
  ready_.clear();
  in_flight_.clear();
}

void KeyQueues::Put(const std::string& key, int64_t seq, const Item& item) {
  queues_[key].items[seq] = item;
  Reindex(key);
}

void KeyQueues::Erase(const std::string& key, int64_t seq) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return;
  it->second.items.erase(seq);
  Reindex(key);
}

std::vector<KeyQueues::Head> KeyQueues::Due(absl::Time now, int max) const {
  std::vector<Head> heads;
  for (auto it = ready_.begin();
       it != ready_.end() && static_cast<int>(heads.size()) < max &&
       it->first.first <= now;
       ++it) {
    heads.push_back({it->first.second, it->second});
  }
  return heads;
}

KeyQueues::Item* KeyQueues::Find(int64_t id, const std::string& key) {
  auto q = queues_.find(key);
  if (q == queues_.end()) return nullptr;
  for (auto& [seq, item] : q->second.items) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

bool KeyQueues::Claim(int64_t id, const std::string& key) {
  Item* item = Find(id, key);
  if (item == nullptr) return false;
  item->state = ItemState::kInFlight;
  in_flight_[id] = key;
  Reindex(key);
  return true;
}

bool KeyQueues::Park(int64_t id, const std::string& key) {
  Item* item = Find(id, key);
  if (item == nullptr) return false;
  item->state = ItemState::kDead;
  Reindex(key);
  return true;
}

bool KeyQueues::Land(int64_t id, Landing landing,
                     std::optional<absl::Time> due) {
  auto flying = in_flight_.find(id);
  if (flying == in_flight_.end()) return false;
  const std::string key = std::move(flying->second);
  in_flight_.erase(flying);
  Item* item = Find(id, key);
  if (item == nullptr) return false;
  switch (landing) {
    case Landing::kDelivered: {
      auto& items = queues_[key].items;
      for (auto it = items.begin(); it != items.end(); ++it) {
        if (it->second.id == id) {
          items.erase(it);
          break;
        }
      }
      break;
    }
    case Landing::kPending:
      item->state = ItemState::kPending;
      if (due.has_value()) item->due = *due;
      break;
    case Landing::kDead:
      item->state = ItemState::kDead;
      break;
  }
  Reindex(key);
  return true;
}

void KeyQueues::Expedite(absl::Time now) {
  std::vector<std::string> later;
  for (auto it = ready_.upper_bound({now, std::numeric_limits<int64_t>::max()});
       it != ready_.end(); ++it) {
    later.push_back(it->second);
  }
  for (const std::string& key : later) {
    for (auto& [seq, item] : queues_[key].items) {
      if (item.state == ItemState::kPending && item.due > now) item.due = now;
    }
    Reindex(key);
  }
}

std::optional<absl::Time> KeyQueues::NextDue() const {
  if (ready_.empty()) return std::nullopt;
  return ready_.begin()->first.first;
}

bool KeyQueues::HasQueued(const std::string& key) const {
  auto it = queues_.find(key);
  if (it == queues_.end()) return false;
  for (const auto& [seq, item] : it->second.items) {
    if (item.state == ItemState::kPending ||
        item.state == ItemState::kInFlight) {
      return true;
    }
  }
  return false;
}

bool KeyQueues::HasPending(const std::string& key) const {
  auto it = queues_.find(key);
  if (it == queues_.end()) return false;
  for (const auto& [seq, item] : it->second.items) {
    if (item.state == ItemState::kPending) return true;
  }
  return false;
}

std::vector<std::pair<int64_t, int64_t>> KeyQueues::DeadItems(
    const std::string& key) const {
  std::vector<std::pair<int64_t, int64_t>> dead;
  auto it = queues_.find(key);
  if (it == queues_.end()) return dead;
  for (const auto& [seq, item] : it->second.items) {
    if (item.state == ItemState::kDead) dead.emplace_back(seq, item.id);
  }
  return dead;
}

KeyQueues::Counts KeyQueues::OpenCounts() const {
  Counts counts;
  for (const auto& [key, queue] : queues_) {
    for (const auto& [seq, item] : queue.items) {
      switch (item.state) {
        case ItemState::kPending:
          ++counts.pending;
          break;
        case ItemState::kInFlight:
          ++counts.in_flight;
          break;
        case ItemState::kDead:
          ++counts.dead;
          break;
        case ItemState::kDelivered:
        case ItemState::kSuperseded:
          break;
      }
    }
  }
  return counts;
}

void KeyQueues::Reindex(const std::string& key) {
  auto it = queues_.find(key);
  if (it == queues_.end()) return;
  Queue& queue = it->second;
  if (queue.ready_at.has_value()) {
    ready_.erase(*queue.ready_at);
    queue.ready_at.reset();
  }
  if (queue.items.empty()) {
    queues_.erase(it);
    return;
  }
  const Item& head = queue.items.begin()->second;
  if (head.state == ItemState::kPending) {
    const ReadyAt at{head.due, head.id};
    ready_[at] = key;
    queue.ready_at = at;
  }
}

}  // namespace lienthong::sync
