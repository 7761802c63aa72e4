#include "media/spool_format.h"

namespace callvault::media::spool {

std::string_view UnwrittenReasonName(UnwrittenReason reason) {
  switch (reason) {
    case UnwrittenReason::kDiskFull:
      return "disk_full";
    case UnwrittenReason::kWriteError:
      return "write_error";
    case UnwrittenReason::kBufferFull:
      return "buffer_full";
  }
  return "unknown";
}

}  // namespace callvault::media::spool
