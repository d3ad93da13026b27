// Outbox: the stored national procedure database (see outbox.h).
#include "gateway/sync/outbox.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/status_macros.h"
#include "gateway/sync/outbox_db.h"

namespace lienthong::sync {

using outbox_internal::FromMicros;
using outbox_internal::Micros;

absl::Status Outbox::ReplaceNationalCatalogue(
    absl::Span<const lienthong::v1::NationalProcedure> procedures,
    absl::Time pulled_at) {
  absl::MutexLock lock(&mu_);
  Db::Txn txn(db_.get());
  LIENTHONG_RETURN_IF_ERROR(txn.Begin());
  LIENTHONG_RETURN_IF_ERROR(db_->Exec("DELETE FROM national_procedures"));
  for (const lienthong::v1::NationalProcedure& procedure : procedures) {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt ins,
        db_->Prepare("INSERT OR REPLACE INTO national_procedures(code, detail) "
                     "VALUES(?, ?)"));
    LIENTHONG_RETURN_IF_ERROR(ins.Bind(1, procedure.code())
                                  .BindBlob(2, procedure.SerializeAsString())
                                  .Run());
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt put,
      db_->Prepare("INSERT OR REPLACE INTO meta(name, value) "
                   "VALUES('catalogue_pulled_at', ?)"));
  LIENTHONG_RETURN_IF_ERROR(put.Bind(1, absl::StrCat(Micros(pulled_at))).Run());
  return txn.Commit();
}

absl::StatusOr<Outbox::NationalCatalogueRows> Outbox::ReadNationalCatalogue()
    const {
  absl::MutexLock lock(&mu_);
  NationalCatalogueRows rows;
  {
    LIENTHONG_ASSIGN_OR_RETURN(
        Db::Stmt get, db_->Prepare("SELECT value FROM meta WHERE "
                                   "name='catalogue_pulled_at'"));
    LIENTHONG_ASSIGN_OR_RETURN(bool row, get.Step());
    int64_t micros = 0;
    if (row && absl::SimpleAtoi(get.Text(0), &micros)) {
      rows.pulled_at = FromMicros(micros);
    }
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      Db::Stmt q, db_->Prepare("SELECT code FROM national_procedures"));
  for (;;) {
    LIENTHONG_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    rows.codes.push_back(q.Text(0));
  }
  return rows;
}

}  // namespace lienthong::sync
