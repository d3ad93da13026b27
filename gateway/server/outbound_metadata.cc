#include "gateway/server/outbound_metadata.h"

#include <string>

#include "absl/strings/ascii.h"

namespace lienthong::server {

bool IsSafeMetadataValue(absl::string_view value) {
  if (value.empty() || value.size() > kMaxMetadataValueBytes) return false;
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != ':' && c != '-') {
      return false;
    }
  }
  return true;
}

bool AddCheckedTrailingMetadata(grpc::ServerContextBase& ctx,
                                absl::string_view key, absl::string_view value,
                                metrics::Family<metrics::Counter>* dropped) {
  if (!IsSafeMetadataValue(value)) {
    if (dropped != nullptr) dropped->WithLabels({key}).Increment();
    return false;
  }
  ctx.AddTrailingMetadata(std::string(key), std::string(value));
  return true;
}

}  // namespace lienthong::server
