// Following a portal sync job to its end for `lienthong sync procedures` and
// `lienthong sync status --watch`: the WatchSyncJob stream with a progress
// display, surviving a broken stream (the gateway restarting) and a silent
// one (see WatchOptions in sync_commands.h), and the report of how the job
// ended.
#ifndef LIENTHONG_GATEWAY_CLI_JOB_WATCHER_H_
#define LIENTHONG_GATEWAY_CLI_JOB_WATCHER_H_

#include <ostream>
#include <string>

#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/sync_commands.h"
#include "lienthong/v1/portal.grpc.pb.h"

namespace lienthong::cli {

// Returns true when `job` is DONE or DONE_WITH_ERRORS. Thread-safe.
bool HasEnded(const lienthong::v1::SyncJob& job);

// Returns the state's name ("RUNNING"), or "STATE_<n>" for an unknown one.
// Thread-safe.
std::string JobStateName(lienthong::v1::SyncJob::State state);

// Returns the command that follows the job,
// "'lienthong sync status --job <id> --watch'". Thread-safe.
std::string FollowHint(const std::string& job_id);

// Follows `job` (at least its job_id known) with WatchSyncJob until it ends
// or `watch.wait` runs out, with a progress display on `out` (none with
// options.json), and reports how it ended. Returns kOk (DONE),
// kExitJobHasDeadLetters (DONE_WITH_ERRORS), kDeadlineExceeded (--wait ran
// out; the job goes on), or the code of the failure that stopped the
// watching (reported on `err`). Blocks until then; sleeps between
// reconnections.
ExitCode FollowJob(lienthong::v1::PortalSyncService::Stub& stub,
                   lienthong::v1::SyncJob job, const CommonOptions& options,
                   const WatchOptions& watch, std::ostream& out,
                   std::ostream& err);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_JOB_WATCHER_H_
