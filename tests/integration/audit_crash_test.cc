// kill -9 during heavy auditing: the real lienthong-gateway binary answers
// many concurrent lookups, each for a dossier of its own, and is killed
// with SIGKILL at random moments, then restarted on the same journal. Every
// lookup it answered OK must have its record in the journal afterwards (an
// answer waits for its record to be durable); the journal, with its
// anchors, must verify; torn last writes are cut and reported, never taken
// for damage; and an index rebuilt from nothing answers as the gateway's
// own.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/indexer.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/query.h"
#include "gateway/audit/signing.h"
#include "gateway/audit/verify.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_process.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

constexpr int kKills = 6;
constexpr int kClients = 24;
constexpr char kId[] = "033085012345";

// Where the gateway listens now; the killer changes it on each restart.
class PortHolder {
 public:
  void Set(int port) {
    absl::MutexLock lock(&mu_);
    port_ = port;
  }
  int Get() const {
    absl::MutexLock lock(&mu_);
    return port_;
  }

 private:
  mutable absl::Mutex mu_;
  int port_ = 0;
};

std::string Dossier(int n) {
  return absl::StrFormat("000.00.01.H31-251203-%05d", n);
}

// Every record of the journal in `dir`.
std::vector<lienthong::v1::AuditRecord> JournalRecords(const std::string& dir) {
  std::vector<lienthong::v1::AuditRecord> out;
  EXPECT_TRUE(audit::ReadJournal(dir, {}, {},
                                 [&](const audit::JournalPosition&,
                                     const audit::Frame& frame) {
                                   if (frame.type == audit::FrameType::kRecord) {
                                     out.emplace_back().ParseFromArray(
                                         frame.payload.data(),
                                         static_cast<int>(frame.payload.size()));
                                   }
                                   return true;
                                 })
                  .ok());
  return out;
}

// Every record `index` returns, page by page, as sequence:hash.
std::vector<std::string> AllFrom(const audit::AuditIndex& index,
                                 const std::string& dossier = "") {
  std::vector<std::string> out;
  audit::QueryFilter filter;
  filter.limit = 1000;
  filter.dossier_id = dossier;
  while (true) {
    auto page = index.Query(filter);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->empty()) return out;
    for (const auto& r : *page) {
      out.push_back(absl::StrCat(r.sequence(), ":", r.hash()));
    }
    filter.after_sequence = page->back().sequence();
  }
}

TEST(AuditCrashTest, SigkillDuringHeavyAuditingLosesNothingAcknowledged) {
  auto sim = StartSimProcess();
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string yaml = GatewayYaml(sim->port);
  const size_t at = yaml.find("store_file: ");
  ASSERT_NE(at, std::string::npos);
  const std::string index_file =
      yaml.substr(at + 12, yaml.find('\n', at) - at - 12);
  const std::string dir = std::filesystem::path(index_file).parent_path();
  const std::string config = dir + "/gateway.yaml";
  const std::string log = dir + "/gateway.log";

  std::unique_ptr<RunningProcess> gateway;
  {
    auto started = StartGatewayProcess(config, yaml, log);
    ASSERT_TRUE(started.ok()) << started.status();
    gateway = std::make_unique<RunningProcess>(*std::move(started));
  }
  PortHolder port;
  port.Set(gateway->port);

  absl::Mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      int stub_port = 0;
      std::unique_ptr<lienthong::v1::PopulationService::Stub> stub;
      while (!stop) {
        if (stub == nullptr || stub_port != port.Get()) {
          stub_port = port.Get();
          stub = lienthong::v1::PopulationService::NewStub(
              ClientChannel(stub_port, "dossier-system"));
        }
        const std::string dossier = Dossier(next++);
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
        lienthong::v1::LookupCitizenRequest request;
        request.set_citizen_id(kId);
        request.set_purpose("1.001193");
        request.set_dossier_id(dossier);
        request.mutable_fields()->add_paths("name");
        *request.mutable_officer() = TestOfficer();
        lienthong::v1::Citizen citizen;
        if (stub->LookupCitizen(&context, request, &citizen).ok()) {
          absl::MutexLock lock(&mu);
          acknowledged.insert(dossier);
        } else {
          // The gateway was down or restarting: not acknowledged. Pacing,
          // not readiness: a refused connection fails at once.
          ++failed;
          absl::SleepFor(absl::Milliseconds(10));
        }
      }
    });
  }
  struct JoinOnExit {
    std::vector<std::thread>& threads;
    std::atomic<bool>& stop;
    ~JoinOnExit() {
      stop = true;
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_on_exit{clients, stop};

  std::mt19937 rng(20261203);
  std::vector<size_t> acknowledged_at_kill;
  for (int i = 0; i < kKills; ++i) {
    // During heavy auditing: once the restarted gateway has answered a
    // hundred lookups, at a random moment.
    {
      std::pair<std::set<std::string>*, size_t> wanted(
          &acknowledged,
          (acknowledged_at_kill.empty() ? 0 : acknowledged_at_kill.back()) +
              100);
      absl::MutexLock lock(&mu);
      mu.AwaitWithTimeout(
          absl::Condition(
              +[](std::pair<std::set<std::string>*, size_t>* p) {
                return p->first->size() >= p->second;
              },
              &wanted),
          absl::Seconds(60));
    }
    absl::SleepFor(absl::Milliseconds(
        std::uniform_int_distribution<int>(0, 700)(rng)));
    gateway->process.Stop(SIGKILL);
    {
      absl::MutexLock lock(&mu);
      acknowledged_at_kill.push_back(acknowledged.size());
    }
    gateway.reset();
    auto started = StartGatewayProcess(config, yaml, log);
    ASSERT_TRUE(started.ok()) << started.status();
    gateway = std::make_unique<RunningProcess>(*std::move(started));
    port.Set(gateway->port);
  }
  absl::SleepFor(absl::Milliseconds(500));  // pacing: calls after the last
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(gateway->process.Stop(SIGTERM), 0);
  gateway.reset();

  absl::MutexLock lock(&mu);
  std::cout << "[kill -9] " << kKills << " kills; " << acknowledged.size()
            << " lookups acknowledged (at each kill:";
  for (size_t n : acknowledged_at_kill) std::cout << " " << n;
  std::cout << "), " << failed.load() << " not (gateway down)\n";
  ASSERT_GT(acknowledged.size(), static_cast<size_t>(kKills) * 20);
  for (size_t i = 1; i < acknowledged_at_kill.size(); ++i) {
    EXPECT_GT(acknowledged_at_kill[i], acknowledged_at_kill[i - 1])
        << "no calls between kills " << i << " and " << i + 1;
  }

  // Nothing acknowledged is missing.
  const std::string journal = dir + "/audit-journal";
  std::set<std::string> recorded;
  int opened = 0, torn = 0;
  for (const auto& r : JournalRecords(journal)) {
    if (r.kind() == lienthong::v1::AuditRecord::LOG_OPENED) {
      ++opened;
      torn += absl::StrContains(r.details(), "torn_tail_bytes=");
      // Every start after the first follows a SIGKILL.
      if (opened > 1) {
        EXPECT_TRUE(absl::StrContains(r.details(), "previous_stop=not clean"))
            << r.details();
      }
    } else if (r.outcome() == "OK") {
      recorded.insert(r.dossier_id());
    }
  }
  EXPECT_EQ(opened, kKills + 1);
  std::vector<std::string> missing;
  for (const std::string& dossier : acknowledged) {
    if (recorded.count(dossier) == 0) missing.push_back(dossier);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged calls have "
                               << "no record, e.g. " << missing.front();
  std::cout << "[kill -9] " << recorded.size() << " OK records; " << torn
            << " torn last writes cut at restart\n";

  // The chain verifies, anchors included, with the key the gateway made.
  auto key = audit::PublicKey::FromPemFile(dir + "/audit-signing.pem");
  ASSERT_TRUE(key.ok()) << key.status();
  audit::VerifyOptions verify;
  verify.key = &*key;
  verify.key_pinned = true;
  verify.anchor_file = dir + "/audit-anchors.jsonl";
  auto report = audit::VerifyJournal(journal, verify);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_GT(report->anchors_checked(), static_cast<uint64_t>(kKills));
  EXPECT_EQ(report->torn_tail_bytes(), 0u);  // cut by the last start

  // The gateway's index (caught up) and one rebuilt from nothing answer
  // alike.
  std::vector<std::string> live_all, live_one;
  {
    auto options = audit::AuditLog::Options();
    options.path = index_file;
    options.journal_dir = journal;
    options.node = "crash-test";
    options.signing_key_file = dir + "/audit-signing.pem";
    options.hmac_key_file = dir + "/audit-hmac.key";
    options.digest_key_file = dir + "/audit-digest.key";
    options.anchor_file = verify.anchor_file;
    options.segment_bytes = 4 << 20;
    auto opened_log = audit::AuditLog::Open(options);
    ASSERT_TRUE(opened_log.ok()) << opened_log.status();
    ASSERT_TRUE((*opened_log)->ready()) << (*opened_log)->Readiness();
    live_all = AllFrom((*opened_log)->index());
    live_one = AllFrom((*opened_log)->index(), *acknowledged.begin());
  }
  auto rebuilt =
      audit::SqliteAuditIndex::Open(dir + "/rebuilt.db", {journal});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  auto first = audit::MappedSegment::Open(
      audit::ListSegments(journal)->front().path);
  ASSERT_TRUE(first.ok());
  audit::Indexer::Options indexer_options;
  indexer_options.journal_dir = journal;
  indexer_options.journal_id = first->header().journal_id;
  audit::Indexer indexer(indexer_options, rebuilt->get(),
                         [] { return audit::Indexer::Durable{}; });
  ASSERT_TRUE(indexer.RunOnce().ok());
  // The open above added one LOG_OPENED record, in both.
  EXPECT_EQ(AllFrom(**rebuilt), live_all);
  EXPECT_EQ(AllFrom(**rebuilt, *acknowledged.begin()), live_one);
  EXPECT_EQ(live_one.size(), 1u);
  EXPECT_EQ(live_all.size(), JournalRecords(journal).size());
}

}  // namespace
}  // namespace lienthong::testing
