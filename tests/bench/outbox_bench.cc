// outbox_bench: durable pushes per second and deliveries per second of the
// portal outbox on SQLite and on PostgreSQL, side by side, measured at the
// store (the Outbox interface), without gRPC or a portal: what each store
// itself allows.
//
//   outbox_bench [--dossiers N] [--pushers N] [--claim N]
//
// Pushes: `pushers` threads each push their share of `dossiers` dossiers
// two updates each, one PushDossierUpdates call per update (the first
// carrying its registration: 3 items per dossier), each answered only once
// durable (SQLite synchronous=FULL; PostgreSQL synchronous_commit=on).
// Deliveries: one thread claims up to `claim` items at a time and reports
// them delivered in the next FinishAndClaim, as the delivery worker does
// against a portal that answers at once.
//
// PostgreSQL: $LIENTHONG_PG_DSN when set (its outbox schema is migrated;
// use an empty database), else a throwaway server (tests/testing/pg_server,
// needs postgresql-15) in a temporary folder.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/pg_outbox.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/scratch_dir.h"

namespace {

using lienthong::sync::DeliveryResult;
using lienthong::sync::Outbox;
using lienthong::sync::OutboxItem;

struct Settings {
  int dossiers = 3000;
  int pushers = 8;
  int claim = 32;
};

lienthong::v1::DossierStatusUpdate Update(int d, int step) {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code(absl::StrFormat("000.00.03.H31-250715-%05d", d));
  u.set_procedure_code("1.001193.000.00.00.H31");
  u.set_status(step == 0 ? lienthong::v1::NEW : lienthong::v1::ACCEPTED);
  u.mutable_time()->set_seconds(1752537600 + d + step * 60);
  u.set_handler("Cán bộ một cửa");
  if (step == 0) {
    auto* r = u.mutable_registration();
    r->set_procedure_name("Đăng ký khai sinh");
    r->set_field_code("G09-TP05");
    r->set_field_name("Hộ tịch");
    r->mutable_applicant()->set_name(absl::StrCat("Phạm Thị Đo Lường ", d));
    r->mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
    r->set_summary("Hồ sơ đo");
    *r->mutable_received() = u.time();
    r->set_handling_unit("UBND xã Tân Hưng");
  }
  return u;
}

// Returns pushes per second, or a negative number on failure.
double Push(Outbox& outbox, const Settings& s) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const absl::Time start = absl::Now();
  for (int t = 0; t < s.pushers; ++t) {
    threads.emplace_back([&, t] {
      for (int step = 0; step < 2; ++step) {
        for (int d = t; d < s.dossiers; d += s.pushers) {
          google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate>
              batch;
          *batch.Add() = Update(d, step);
          if (!outbox.PushDossierUpdates(batch).ok()) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (failures > 0) {
    std::fprintf(stderr, "outbox_bench: %d pushes failed\n", failures.load());
    return -1;
  }
  return 2.0 * s.dossiers / seconds;
}

// Returns deliveries per second.
double Deliver(Outbox& outbox, const Settings& s) {
  const int64_t total = 3LL * s.dossiers;
  int64_t delivered = 0;
  std::vector<DeliveryResult> done;
  const absl::Time start = absl::Now();
  const absl::Time give_up = start + absl::Minutes(5);
  while (delivered < total && absl::Now() < give_up) {
    auto claimed = outbox.FinishAndClaim(done, s.claim);
    if (!claimed.ok()) {
      std::fprintf(stderr, "outbox_bench: %s\n",
                   std::string(claimed.status().message()).c_str());
      return -1;
    }
    delivered += static_cast<int64_t>(done.size());
    done.clear();
    for (const OutboxItem& item : *claimed) {
      DeliveryResult r;
      r.id = item.id;
      r.kind = DeliveryResult::Kind::kDelivered;
      done.push_back(r);
    }
  }
  if (!done.empty() && outbox.FinishAndClaim(done, 0).ok()) {
    delivered += static_cast<int64_t>(done.size());
  }
  return delivered / absl::ToDoubleSeconds(absl::Now() - start);
}

void Report(const char* store, Outbox& outbox, const Settings& s) {
  const double pushes = Push(outbox, s);
  const double deliveries = Deliver(outbox, s);
  std::printf("%-10s durable pushes/s %8.0f (%d threads, 1 update each)   "
              "deliveries/s %8.0f (claims of %d)\n",
              store, pushes, s.pushers, deliveries, s.claim);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    int value = 0;
    if (!absl::SimpleAtoi(argv[i + 1], &value) || value <= 0) {
      std::fprintf(stderr, "outbox_bench: %s needs a positive number\n",
                   flag.c_str());
      return 2;
    }
    if (flag == "--dossiers") s.dossiers = value;
    else if (flag == "--pushers") s.pushers = value;
    else if (flag == "--claim") s.claim = value;
    else {
      std::fprintf(stderr, "usage: outbox_bench [--dossiers N] [--pushers N] "
                           "[--claim N]\n");
      return 2;
    }
  }
  const std::string key(32, 'b');
  std::printf("outbox_bench: %d dossiers x 2 updates (%d items)\n", s.dossiers,
              3 * s.dossiers);
  {
    const lienthong::testing::ScratchDir folder("outbox-bench");
    if (folder.path().empty()) return 1;
    lienthong::sync::OutboxOptions options;
    options.path = folder.File("outbox.db");
    options.key = key;
    auto outbox = Outbox::Open(options);
    if (!outbox.ok()) {
      std::fprintf(stderr, "outbox_bench: sqlite: %s\n",
                   std::string(outbox.status().message()).c_str());
      return 1;
    }
    Report("sqlite", **outbox, s);
  }
  std::unique_ptr<lienthong::testing::PgServer> server;
  lienthong::sync::PgOutboxOptions options;
  options.key = key;
  options.pool.size = 8;
  if (const char* dsn = std::getenv("LIENTHONG_PG_DSN"); dsn != nullptr && *dsn) {
    options.pool.dsn = dsn;
  } else if (lienthong::testing::PgServer::Installed()) {
    auto started = lienthong::testing::PgServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "outbox_bench: %s\n",
                   std::string(started.status().message()).c_str());
      return 1;
    }
    server = *std::move(started);
    options.pool.dsn = server->dsn();
  } else {
    std::printf("postgres   skipped: no LIENTHONG_PG_DSN and no postgresql-15\n");
    return 0;
  }
  if (auto migrated = lienthong::sync::PgOutbox::Migrate(options.pool);
      !migrated.ok()) {
    std::fprintf(stderr, "outbox_bench: migrate: %s\n",
                 std::string(migrated.status().message()).c_str());
    return 1;
  }
  auto outbox = lienthong::sync::PgOutbox::Open(options);
  if (!outbox.ok()) {
    std::fprintf(stderr, "outbox_bench: postgres: %s\n",
                 std::string(outbox.status().message()).c_str());
    return 1;
  }
  Report("postgres", **outbox, s);
  return 0;
}
