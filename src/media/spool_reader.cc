#include "media/spool_reader.h"

#include "media/crc32c.h"

namespace callvault::media {
namespace {

uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | static_cast<uint8_t>(p[1]) << 8);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

Result<SpoolReader> SpoolReader::Open(Fs& fs, const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::string data, fs.ReadFile(path));
  return FromBytes(std::move(data), path);
}

Result<SpoolReader> SpoolReader::FromBytes(std::string data, std::string name) {
  if (data.size() < spool::kFileHeaderSize) {
    return DataLossError("reading spool file " + name + ": shorter than its header (" +
                         std::to_string(data.size()) + " bytes)");
  }
  if (std::string_view(data).substr(0, spool::kMagic.size()) != spool::kMagic) {
    return DataLossError("reading spool file " + name + ": bad magic");
  }
  const uint16_t version = GetU16(data.data() + 8);
  const uint16_t header_size = GetU16(data.data() + 10);
  if (version != spool::kVersion1) {
    return UnimplementedError("reading spool file " + name + ": version " +
                              std::to_string(version) + " (this build reads 1)");
  }
  if (header_size < spool::kFileHeaderSize || header_size > data.size()) {
    return DataLossError("reading spool file " + name + ": bad header_size " +
                         std::to_string(header_size));
  }
  return SpoolReader(std::move(data), std::move(name), header_size, version);
}

bool SpoolReader::Stop(std::string why) {
  done_ = true;
  ignored_ = data_.size() - pos_;
  if (ignored_ > 0) {
    tail_ =
        DataLossError("reading spool file " + name_ + ": " + why + " at offset " +
                      std::to_string(pos_) + "; " + std::to_string(ignored_) + " bytes ignored");
  }
  return false;
}

bool SpoolReader::Next(SpoolRecord* record) {
  if (done_) return false;
  const size_t left = data_.size() - pos_;
  if (left == 0) return Stop("");
  if (left < spool::kRecordHeaderSize) return Stop("short record header");
  const char* h = data_.data() + pos_;
  const uint16_t length = GetU16(h);
  if (left - spool::kRecordHeaderSize < length) return Stop("short record payload");
  uint32_t crc = Crc32cExtend(0, h, spool::kCrcOffset);
  crc = Crc32cExtend(crc, h + spool::kRecordHeaderSize, length);
  if (crc != GetU32(h + spool::kCrcOffset)) return Stop("record CRC mismatch");
  record->kind = static_cast<spool::RecordKind>(static_cast<uint8_t>(h[2]));
  record->flags = static_cast<uint8_t>(h[3]);
  record->arrival_ns = static_cast<int64_t>(GetU64(h + 4));
  record->payload = std::string_view(h + spool::kRecordHeaderSize, length);
  record->offset = pos_;
  pos_ += spool::kRecordHeaderSize + length;
  ++records_;
  return true;
}

}  // namespace callvault::media
