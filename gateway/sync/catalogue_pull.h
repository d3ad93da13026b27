// CataloguePuller: reads the national procedure database through the portal
// adapter (LayDanhSachTTHC lists every procedure; LayThuTuc then reads each
// in full, a few at a time) into the outbox's store and the NationalCatalogue
// the pushes are checked against. A read starts at start when the store holds
// none, every `refresh`, and when asked (PortalSyncService/PullCatalogue);
// one at a time. A read replaces the catalogue only once it is complete and
// stored: a failed one (the list refused or empty, the store not written)
// leaves the previous catalogue in use. A procedure listed but not read in
// full (refused, or failing twice) is kept with the list's code and name.
//
// The adapter's calls go out without waiting on them: their answers come
// back on the HTTP client's thread and drive the read; the puller's own
// thread only schedules reads and writes the store. After Stop returns, the
// portal adapter is not called again; answers still arriving are dropped
// (they hold only what the puller shares with them, so the adapter may be
// destroyed then, and the puller too).
//
//   CataloguePuller puller(outbox, adapter, &catalogue, options);
//   LIENTHONG_RETURN_IF_ERROR(puller.LoadStored());
//   puller.Start();
//   ...
//   puller.Stop();
#ifndef LIENTHONG_GATEWAY_SYNC_CATALOGUE_PULL_H_
#define LIENTHONG_GATEWAY_SYNC_CATALOGUE_PULL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "gateway/sync/national_catalogue.h"
#include "gateway/sync/outbox.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {

struct CataloguePullerOptions {
  // How often the catalogue is read again. > 0.
  absl::Duration refresh = absl::Hours(24);
  // LayThuTuc calls out at once. >= 1.
  int concurrent_reads = 8;
  // Each call must be answered by then.
  absl::Duration call_timeout = absl::Seconds(30);
};

class CataloguePuller {
 public:
  // REQUIRES: `outbox`, `portal` and `catalogue` outlive the puller;
  // options.refresh > 0, options.concurrent_reads >= 1.
  CataloguePuller(Outbox* outbox, adapters::PortalAdapter* portal,
                  NationalCatalogue* catalogue, CataloguePullerOptions options);
  // Stop()s.
  ~CataloguePuller();

  CataloguePuller(const CataloguePuller&) = delete;
  CataloguePuller& operator=(const CataloguePuller&) = delete;

  // Puts the stored catalogue (if any) in use. UNAVAILABLE when the store
  // cannot be read. REQUIRES: before Start().
  absl::Status LoadStored();

  // Starts the scheduling thread: a read at once when no catalogue is
  // stored, then every options.refresh. REQUIRES: called once.
  void Start();

  // Stops the thread, abandoning a read under way (nothing is replaced).
  // Waits for calls into the portal adapter already going out to return;
  // none is made after. Idempotent. REQUIRES: not called from within a
  // call into the portal adapter (an answer given inline).
  void Stop();

  // Starts a read unless one is under way; returns its state (started_now
  // tells which). Thread-safe.
  lienthong::v1::CataloguePull PullNow();

  // Returns the latest read's state, and the catalogue in use; nullopt when
  // there has been no read since Start(). Thread-safe.
  std::optional<lienthong::v1::CataloguePull> Latest() const;

 private:
  struct Shared;

  void Loop();
  // Starts a read unless one is under way (asks for the list); returns the
  // state and whether this call started it. Any thread.
  static std::pair<lienthong::v1::CataloguePull, bool> Begin(
      const std::shared_ptr<Shared>& shared);
  // Called on the HTTP client's thread as answers arrive. Each goes on only
  // while the read `generation` is current (not stopped, not abandoned),
  // checked under the lock that also counts each call into the adapter.
  static void OnList(
      const std::shared_ptr<Shared>& shared, int64_t generation,
      absl::StatusOr<
          adapters::Reply<std::vector<lienthong::v1::NationalProcedure>>>
          answer);
  static void ReadMore(const std::shared_ptr<Shared>& shared,
                       int64_t generation);
  static void ReadOne(const std::shared_ptr<Shared>& shared,
                      int64_t generation, size_t index, std::string code,
                      int attempt);
  // The read is complete: stores it and puts it in use (puller's thread).
  // Returns true when it did, false when the read had failed or the store
  // could not be written.
  bool Finish();

  Outbox* const outbox_;
  NationalCatalogue* const catalogue_;
  const CataloguePullerOptions options_;
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_CATALOGUE_PULL_H_
