// CRC-32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41, as RFC 3720 and
// LevelDB's log use it): the checksum of the audit journal's frames. It
// finds torn and damaged frames; it is no defence against tampering, which
// the hash chain and the signed checkpoints are for.
#ifndef LIENTHONG_GATEWAY_AUDIT_CRC32C_H_
#define LIENTHONG_GATEWAY_AUDIT_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace lienthong::audit {

// Returns the CRC-32C of `data` continuing from `crc` (0 to start), so that
// Crc32c(b, Crc32c(a)) == Crc32c(a + b). Uses the CPU's CRC32 instruction
// when it has one (SSE 4.2), else a table. Thread-safe.
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_CRC32C_H_
