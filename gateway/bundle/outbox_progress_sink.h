// OutboxProgressSink: a ProgressSink over the portal synchronisation's
// outbox (gateway/sync/outbox.h, PushDossierUpdates). The only file of
// gateway/bundle that knows the outbox and the portal's update message.
#ifndef LIENTHONG_GATEWAY_BUNDLE_OUTBOX_PROGRESS_SINK_H_
#define LIENTHONG_GATEWAY_BUNDLE_OUTBOX_PROGRESS_SINK_H_

#include "gateway/bundle/progress_sink.h"
#include "gateway/sync/outbox.h"

namespace lienthong::bundle {

class OutboxProgressSink final : public ProgressSink {
 public:
  // REQUIRES: `outbox` outlives the sink.
  explicit OutboxProgressSink(sync::Outbox* outbox) : outbox_(outbox) {}

  // As ProgressSink::Push, by Outbox::PushDossierUpdates: its errors.
  absl::Status Push(absl::Span<const ProgressUpdate> updates) override;

 private:
  sync::Outbox* const outbox_;
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_OUTBOX_PROGRESS_SINK_H_
