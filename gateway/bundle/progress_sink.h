// ProgressSink: where a bundle's progress updates go on their way to the
// national portal: the portal synchronisation's durable outbox
// (OutboxProgressSink), or a fake in tests. The one seam between bundles and
// the portal protocol.
#ifndef LIENTHONG_GATEWAY_BUNDLE_PROGRESS_SINK_H_
#define LIENTHONG_GATEWAY_BUNDLE_PROGRESS_SINK_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::bundle {

// The dossier as the portal registers it with its first update
// (DongBoHoSoMC): what a bundle knows of it, all from its stored state, so
// the same registration whenever it is pushed again.
struct DossierFacts {
  std::string procedure_name;  // TenTTHC: the bundle's title
  std::string field_code;      // MaLinhVuc, from the definition
  std::string field_name;      // TenLinhVuc
  std::string applicant_name;  // ChuHoSo (personal data)
  std::string applicant_id;    // MaDoiTuong: the applicant's citizen ID
  std::string summary;         // TrichYeuHoSo
  absl::Time received;         // NgayTiepNhan: the bundle's start
  absl::Time due;              // NgayHenTra: its deadline at the start
  std::string handling_unit;   // DonViXuLy: the starting officer's unit code
};

// One progress update of a dossier (CapNhatTienDoHoSoMC).
struct ProgressUpdate {
  std::string dossier_code;    // MaHoSo
  std::string procedure_code;  // MaTTHC
  lienthong::v1::DossierStatus status = lienthong::v1::PROCESSING;
  // ThoiDiemXuLy: the transition's stored time, so that the same update
  // pushed again is recognised as a repeat.
  absl::Time time;
  std::string handler;  // NguoiXuLy
  std::string agency;   // PhongBanXuLy
  std::string note;     // NoiDungXuLy
  // NgayBatDau and NgayKetThucTheoQuyDinh of the step, when known.
  std::optional<absl::Time> step_start;
  std::optional<absl::Time> step_due;
  // With a bundle's first update only: the dossier's registration.
  std::optional<DossierFacts> registration;
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;

  // Queues `updates` (of one dossier, in order) for the portal, all or
  // nothing; returns once they are durable. An update queued before (same
  // dossier, status and time) counts as queued. FAILED_PRECONDITION when
  // the portal synchronisation's rules refuse one (a transition they do
  // not allow), INVALID_ARGUMENT for a malformed one, UNAVAILABLE when its
  // store cannot be written. May block on a local store, never on the
  // portal. Thread-safe.
  virtual absl::Status Push(absl::Span<const ProgressUpdate> updates) = 0;
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_PROGRESS_SINK_H_
