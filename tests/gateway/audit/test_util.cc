#include "tests/gateway/audit/test_util.h"

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/journal_format.h"
#include "gateway/audit/signing.h"
#include "gtest/gtest.h"

namespace lienthong::audit::testutil {

std::unique_ptr<AuditLog> OpenLog(const AuditLog::Options& options) {
  auto log = AuditLog::Open(options);
  if (!log.ok()) {
    ADD_FAILURE() << "cannot open the audit log: " << log.status();
    return nullptr;
  }
  return *std::move(log);
}

AuditLog::Options TestOptions(const ScratchDir& dir) {
  AuditLog::Options options;
  options.path = dir.File("audit.db");
  options.journal_dir = dir.File("audit-journal");
  options.anchor_file = dir.File("anchors.jsonl");
  options.anchor_syslog = false;
  options.segment_bytes = 1 << 20;
  options.index_interval = absl::Milliseconds(20);
  options.node = "gw-test";
  options.signing_key_file = dir.File("signing.pem");
  if (!std::filesystem::exists(options.signing_key_file)) {
    GenerateSigningKeyFile(options.signing_key_file).IgnoreError();
  }
  absl::StatusOr<PublicKey> key = PublicKey::FromPemFile(options.signing_key_file);
  if (key.ok()) options.signing_key_sha256 = key->fingerprint();
  options.hmac_key = kTestHmacKey;
  return options;
}

std::string CitizenIdFor(uint64_t i) {
  // Province 033 (Hưng Yên), male born 1985, six digits.
  return absl::StrFormat("03308501%04d", static_cast<int>(i % 97));
}

std::string OfficerIdFor(uint64_t i) {
  // Province 001 (Hà Nội), female born 1990.
  return absl::StrFormat("00119000%04d", static_cast<int>(i % 7));
}

AuditRecord SampleRecord(uint64_t i, const CitizenKey& key, bool officers) {
  static constexpr const char* kCallers[] = {
      "spiffe://lienthong.local/dossier-system",
      "spiffe://lienthong.local/citizen-portal",
      "spiffe://lienthong.local/district-app"};
  static constexpr const char* kMethods[] = {
      "lienthong.v1.PopulationService/LookupCitizen",
      "lienthong.v1.IdentityService/VerifyIdentity"};
  static constexpr const char* kOutcomes[] = {
      "OK", "OK", "OK", "PERMISSION_DENIED", "UNAVAILABLE"};
  AuditRecord r;
  r.set_caller(kCallers[i % 3]);
  r.set_caller_cert_sha256(Sha256Hex(r.caller()));
  r.set_method(kMethods[i % 2]);
  r.set_purpose("1.001193");
  r.set_dossier_id(absl::StrFormat("000.00.01.H31-250715-%05d", i % 1000));
  key.Fill(CitizenIdFor(i), &r);
  if (officers && i % 2 == 0) {
    key.FillOfficer(OfficerIdFor(i), "000.00.01.H31", "officer", &r);
  }
  r.set_national_system(i % 2 == 0 ? "population" : "vneid");
  r.set_outcome(kOutcomes[i % 5]);
  r.set_attempts(r.outcome() == "PERMISSION_DENIED" ? 0 : 1 + i % 3);
  r.set_latency_us(1000 + static_cast<int64_t>(i % 5000));
  r.set_request_sha256(Sha256Hex(absl::StrCat("request ", i)));
  if (r.outcome() == "OK") {
    r.set_response_sha256(Sha256Hex(absl::StrCat("response ", i)));
  }
  return r;
}

absl::Status AppendMany(AuditLog& log, uint64_t first, uint64_t count,
                        absl::Time base, bool officers) {
  // Stay well under AuditLog::Options::max_pending.
  constexpr uint64_t kWindow = 20000;
  absl::Mutex mu;
  uint64_t in_flight = 0;
  absl::Status first_error;
  for (uint64_t i = first; i < first + count; ++i) {
    AuditRecord record = SampleRecord(i, log.citizen_key(), officers);
    if (base != absl::InfinitePast()) {
      ToProtoTime(base + absl::Seconds(i), record.mutable_time()).IgnoreError();
    }
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(
          +[](uint64_t* n) { return *n < kWindow; }, &in_flight));
      ++in_flight;
    }
    log.Append(std::move(record), [&](absl::Status status) {
      absl::MutexLock lock(&mu);
      if (!status.ok() && first_error.ok()) first_error = status;
      --in_flight;
    });
  }
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](uint64_t* n) { return *n == 0; }, &in_flight));
  return first_error;
}

void FaultyIo::FailWritesContaining(std::string needle) {
  absl::MutexLock lock(&mu_);
  needle_ = std::move(needle);
}

void FaultyIo::Hold() {
  absl::MutexLock lock(&mu_);
  held_ = true;
}

void FaultyIo::Release() {
  absl::MutexLock lock(&mu_);
  held_ = false;
}

void FaultyIo::AwaitHeldWrite() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* waiting) { return *waiting > 0; }, &waiting_));
}

ssize_t FaultyIo::Pwrite(int fd, const char* data, size_t size, off_t offset) {
  ++writes_;
  bool fail = mode_.load() == Mode::kFail;
  {
    absl::MutexLock lock(&mu_);
    ++waiting_;
    mu_.Await(absl::Condition(+[](bool* held) { return !*held; }, &held_));
    --waiting_;
    if (!needle_.empty() &&
        absl::string_view(data, size).find(needle_) != absl::string_view::npos) {
      fail = true;
    }
    if (!fail && mode_.load() == Mode::kWriteThenFail) fail_next_sync_ = true;
  }
  if (fail) {
    ++failed_writes_;
    errno = EIO;
    return -1;
  }
  return JournalIo::Pwrite(fd, data, size, offset);
}

int FaultyIo::Fdatasync(int fd) {
  {
    absl::MutexLock lock(&mu_);
    if (fail_next_sync_) {
      fail_next_sync_ = false;
      ++failed_writes_;
      errno = EIO;
      return -1;
    }
  }
  return JournalIo::Fdatasync(fd);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int FlipBitAfter(const std::string& dir, const std::string& needle,
                 size_t offset, unsigned char mask) {
  absl::StatusOr<std::vector<SegmentFile>> segments = ListSegments(dir);
  if (!segments.ok()) return 0;
  int flipped = 0;
  for (const SegmentFile& segment : *segments) {
    const std::string bytes = ReadAll(segment.path);
    const size_t at = bytes.find(needle);
    if (at == std::string::npos || at + offset >= bytes.size()) continue;
    std::fstream file(segment.path,
                      std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(at + offset));
    file.put(static_cast<char>(bytes[at + offset] ^ mask));
    file.close();
    flipped += file.good() ? 1 : 0;
  }
  return flipped;
}

std::vector<Entry> ReadEntries(const std::string& dir) {
  std::vector<Entry> out;
  ReadJournal(dir, {}, {}, [&](const JournalPosition&, const Frame& frame) {
    Entry e;
    e.is_checkpoint = frame.type == FrameType::kCheckpoint;
    const int n = static_cast<int>(frame.payload.size());
    if (e.is_checkpoint) {
      e.checkpoint.ParseFromArray(frame.payload.data(), n);
    } else {
      e.record.ParseFromArray(frame.payload.data(), n);
    }
    out.push_back(std::move(e));
    return true;
  }).IgnoreError();
  return out;
}

absl::Status WriteEntries(const std::string& dir,
                          const std::vector<Entry>& entries,
                          uint64_t segment_bytes) {
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  std::filesystem::create_directories(dir, error);
  SegmentHeader header;
  header.journal_id = std::string(kJournalIdSize, 'T');
  uint64_t number = 0;
  std::string segment;
  auto flush = [&]() -> absl::Status {
    if (number == 0) return absl::OkStatus();
    segment.resize(segment_bytes, '\0');
    std::ofstream out(absl::StrCat(dir, "/", SegmentFileName(number)),
                      std::ios::binary | std::ios::trunc);
    out << segment;
    return out ? absl::OkStatus() : absl::UnavailableError("cannot write");
  };
  uint32_t write = 1;
  for (const Entry& e : entries) {
    const std::string payload = e.is_checkpoint ? e.checkpoint.SerializeAsString()
                                                : e.record.SerializeAsString();
    if (number == 0 ||
        segment.size() + kFrameHeaderSize + payload.size() > segment_bytes) {
      if (absl::Status s = flush(); !s.ok()) return s;
      header.number = ++number;
      segment = EncodeSegmentHeader(header);
    }
    AppendFrame(e.is_checkpoint ? FrameType::kCheckpoint : FrameType::kRecord,
                kEndOfWrite, write++, payload, &segment);
  }
  return flush();
}

void Rechain(std::vector<Entry>& entries, size_t from) {
  std::string prev;
  for (size_t i = from; i-- > 0;) {
    if (!entries[i].is_checkpoint) {
      prev = entries[i].record.hash();
      break;
    }
  }
  if (prev.empty()) prev = GenesisHash();
  for (size_t i = from; i < entries.size(); ++i) {
    if (entries[i].is_checkpoint) continue;
    AuditRecord& r = entries[i].record;
    r.set_prev_hash(prev);
    r.set_hash(*ComputeRecordHash(r));
    prev = r.hash();
  }
}

size_t RecordAt(const std::vector<Entry>& entries, uint64_t sequence) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].is_checkpoint && entries[i].record.sequence() == sequence) {
      return i;
    }
  }
  return entries.size();
}

}  // namespace lienthong::audit::testutil
