// Outbox: the stored national procedure database (see outbox.h).
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/sqlite_outbox.h"
#include "gateway/sync/outbox_internal.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::Micros;
using storage::Statement;
using storage::Transaction;

absl::Status SqliteOutbox::ReplaceNationalCatalogue(
    absl::Span<const lienthong::v1::NationalProcedure> procedures,
    absl::Time pulled_at) {
  absl::MutexLock lock(&mu_);
  LIENTHONG_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*db_));
  LIENTHONG_RETURN_IF_ERROR(db_->Exec("DELETE FROM national_procedures"));
  for (const lienthong::v1::NationalProcedure& procedure : procedures) {
    LIENTHONG_ASSIGN_OR_RETURN(
        Statement ins,
        db_->Cached("INSERT OR REPLACE INTO national_procedures(code, detail) "
                    "VALUES(?, ?)"));
    LIENTHONG_RETURN_IF_ERROR(ins.Bind(1, procedure.code())
                                  .BindBlob(2, procedure.SerializeAsString())
                                  .Run());
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement put, db_->Cached("INSERT OR REPLACE INTO meta(name, value) "
                                 "VALUES('catalogue_pulled_at', ?)"));
  LIENTHONG_RETURN_IF_ERROR(put.Bind(1, absl::StrCat(Micros(pulled_at))).Run());
  return txn.Commit();
}

absl::StatusOr<Outbox::NationalCatalogueRows> SqliteOutbox::ReadNationalCatalogue()
    const {
  absl::MutexLock lock(&mu_);
  NationalCatalogueRows rows;
  {
    LIENTHONG_ASSIGN_OR_RETURN(Statement get,
                               db_->Cached("SELECT value FROM meta WHERE "
                                           "name='catalogue_pulled_at'"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
    int64_t micros = 0;
    if (row && absl::SimpleAtoi(get.Text(0), &micros)) {
      rows.pulled_at = FromMicros(micros);
    }
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      Statement q, db_->Cached("SELECT code FROM national_procedures"));
  LIENTHONG_RETURN_IF_ERROR(q.ForEachRow([&] {
    rows.codes.push_back(q.Text(0));
    return true;
  }));
  return rows;
}

}  // namespace lienthong::sync
