#include "media/spool_reader.h"

#include <algorithm>
#include <cstring>

#include "media/crc32c.h"

namespace callvault::media {
namespace {

// Bytes read per pread: large enough that syscalls don't matter, small enough for the finalizer's
// memory bound. A record (≤ 20 + 65535 bytes) always fits.
constexpr size_t kReadChunk = 1 << 20;

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

struct Header {
  uint16_t version = 0;
  uint16_t header_size = 0;
};

Result<Header> CheckHeader(std::string_view head, uint64_t size, const std::string& name) {
  if (size < spool::kFileHeaderSize || head.size() < spool::kFileHeaderSize) {
    return DataLossError("reading spool file " + name + ": shorter than its header (" +
                         std::to_string(size) + " bytes)");
  }
  if (head.substr(0, spool::kMagic.size()) != spool::kMagic) {
    return DataLossError("reading spool file " + name + ": bad magic");
  }
  Header h{GetU16(head.data() + 8), GetU16(head.data() + 10)};
  if (h.version != spool::kVersion1 && h.version != spool::kVersion2) {
    return UnimplementedError("reading spool file " + name + ": version " +
                              std::to_string(h.version) + " (this build reads 1 and 2)");
  }
  if (h.header_size < spool::kFileHeaderSize || h.header_size > size) {
    return DataLossError("reading spool file " + name + ": bad header_size " +
                         std::to_string(h.header_size));
  }
  return h;
}

}  // namespace

SpoolReader::SpoolReader(std::string name, uint16_t version, uint64_t size, uint64_t pos)
    : name_(std::move(name)), version_(version), size_(size), pos_(pos) {}
SpoolReader::SpoolReader(SpoolReader&&) noexcept = default;
SpoolReader& SpoolReader::operator=(SpoolReader&&) noexcept = default;
SpoolReader::~SpoolReader() = default;

Result<SpoolReader> SpoolReader::Open(Fs& fs, const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, fs.NewRandomAccessFile(path));
  std::string head(spool::kFileHeaderSize, '\0');
  CV_ASSIGN_OR_RETURN(size_t n, file->Read(0, head.size(), head.data()));
  head.resize(n);
  CV_ASSIGN_OR_RETURN(Header h, CheckHeader(head, file->size(), path));
  SpoolReader r(path, h.version, file->size(), h.header_size);
  r.file_ = std::move(file);
  r.buf_offset_ = h.header_size;
  return r;
}

Result<SpoolReader> SpoolReader::FromBytes(std::string data, std::string name) {
  CV_ASSIGN_OR_RETURN(Header h, CheckHeader(data, data.size(), name));
  SpoolReader r(std::move(name), h.version, data.size(), h.header_size);
  r.buf_ = std::move(data);
  return r;
}

size_t SpoolReader::Ensure(size_t n) {
  const uint64_t want_end = std::min<uint64_t>(pos_ + n, size_);
  const uint64_t have_end = buf_offset_ + buf_.size();
  if (file_ == nullptr || want_end <= have_end) {
    return static_cast<size_t>(std::min<uint64_t>(have_end, want_end) - pos_);
  }
  // Keep the unread bytes, drop the rest, and read on from where the buffer ends.
  buf_.erase(0, static_cast<size_t>(pos_ - buf_offset_));
  buf_offset_ = pos_;
  const uint64_t read_to =
      std::min<uint64_t>(size_, std::max<uint64_t>(want_end, pos_ + kReadChunk));
  const size_t old = buf_.size();
  buf_.resize(static_cast<size_t>(read_to - buf_offset_));
  Result<size_t> got = file_->Read(buf_offset_ + old, buf_.size() - old, buf_.data() + old);
  if (!got.ok()) {
    buf_.resize(old);
    read_error_ = got.status().Annotate("reading spool file " + name_);
    return static_cast<size_t>(buf_offset_ + buf_.size() - pos_);
  }
  buf_.resize(old + *got);
  if (*got < read_to - buf_offset_ - old) size_ = buf_offset_ + buf_.size();  // file shrank
  return static_cast<size_t>(std::min<uint64_t>(buf_offset_ + buf_.size(), want_end) - pos_);
}

bool SpoolReader::Stop(std::string why) {
  done_ = true;
  if (!read_error_.ok()) return false;  // not a torn tail: the rest was not read
  ignored_ = size_ - pos_;
  if (ignored_ > 0) {
    tail_ =
        DataLossError("reading spool file " + name_ + ": " + why + " at offset " +
                      std::to_string(pos_) + "; " + std::to_string(ignored_) + " bytes ignored");
  }
  return false;
}

bool SpoolReader::Next(SpoolRecord* record) {
  if (done_) return false;
  const bool v2 = version_ == spool::kVersion2;
  const size_t header = v2 ? spool::kRecordHeaderSizeV2 : spool::kRecordHeaderSize;
  const size_t crc_at = v2 ? spool::kCrcOffsetV2 : spool::kCrcOffset;
  const size_t left = Ensure(header);
  if (!read_error_.ok()) return Stop("");
  if (left == 0) return Stop("");
  if (left < header) return Stop("short record header");
  const uint16_t length = GetU16(buf_.data() + (pos_ - buf_offset_));
  if (Ensure(header + length) < header + length) {
    if (!read_error_.ok()) return Stop("");
    return Stop("short record payload");
  }
  const char* h = buf_.data() + (pos_ - buf_offset_);
  uint32_t crc = Crc32cExtend(0, h, crc_at);
  crc = Crc32cExtend(crc, h + header, length);
  if (crc != GetU32(h + crc_at)) return Stop("record CRC mismatch");
  record->kind = static_cast<spool::RecordKind>(static_cast<uint8_t>(h[2]));
  record->flags = static_cast<uint8_t>(h[3]);
  record->payload = std::string_view(h + header, length);
  record->offset = pos_;
  record->slot = 0;
  record->stream = {};
  if (v2) {
    record->slot = GetU16(h + 4);
    record->arrival_ns = static_cast<int64_t>(GetU64(h + 8));
    const uint16_t slot = record->slot;
    if (record->kind == spool::RecordKind::kStreamDeclaration) {
      if (length == 0 || length > spool::kMaxStreamIdBytes)
        return Stop("stream declaration of " + std::to_string(length) + " bytes");
      if (slots_.size() <= slot) slots_.resize(slot + size_t{1});
      if (!slots_[slot].empty() && slots_[slot] != record->payload)
        return Stop("slot " + std::to_string(slot) + " declared twice");
      slots_[slot] = std::string(record->payload);
    } else if (slot >= slots_.size() || slots_[slot].empty()) {
      return Stop("record of undeclared slot " + std::to_string(slot));
    }
    record->stream = slots_[slot];
  } else {
    record->arrival_ns = static_cast<int64_t>(GetU64(h + 4));
  }
  pos_ += header + length;
  ++records_;
  return true;
}

}  // namespace callvault::media
