#include "media/call_spool_writer.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "media/crc32c.h"

namespace callvault::media {
namespace {

// Little-endian stores: one store each on a little-endian host.
template <typename T>
void PutLe(char* p, T v) {
  if constexpr (std::endian::native != std::endian::little) {
    for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>(v >> (8 * i));
  } else {
    std::memcpy(p, &v, sizeof(T));
  }
}
void PutU16(char* p, uint16_t v) { PutLe(p, v); }
void PutU32(char* p, uint32_t v) { PutLe(p, v); }
void PutU64(char* p, uint64_t v) { PutLe(p, v); }

constexpr size_t kMaxSlots = 65536;  // `slot` is a u16

}  // namespace

Result<std::shared_ptr<CallSpoolWriter>> CallSpoolWriter::Create(Fs* fs, const std::string& path,
                                                                 CallSpoolWriterOptions options) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs->NewAppendableFile(path));
  if (file->size() != 0) {
    file->Close().IgnoreError();  // we only looked
    return AlreadyExistsError("creating spool file " + path + ": already exists (" +
                              std::to_string(file->size()) + " bytes)");
  }
  char header[spool::kFileHeaderSize] = {};
  std::memcpy(header, spool::kMagic.data(), spool::kMagic.size());
  PutU16(header + 8, spool::kVersion2);
  PutU16(header + 10, spool::kFileHeaderSize);
  PutU32(header + 12, 0);
  CV_RETURN_IF_ERROR(file->Append(std::string_view(header, sizeof(header))));
  CV_RETURN_IF_ERROR(file->Flush());
  std::shared_ptr<CallSpoolWriter> w(new CallSpoolWriter(fs, path, std::move(file), options));
  w->flushed_ = spool::kFileHeaderSize;
  return w;
}

CallSpoolWriter::CallSpoolWriter(Fs* fs, std::string path, std::unique_ptr<AppendableFile> file,
                                 CallSpoolWriterOptions options)
    : fs_(fs), path_(std::move(path)), options_(options), file_(std::move(file)) {
  Grow(4096);
}

CallSpoolWriter::~CallSpoolWriter() = default;  // the AppendableFile closes itself

void CallSpoolWriter::Grow(size_t n) {
  const size_t capacity = std::max(buf_size_ + n, 2 * buf_capacity_);
  std::unique_ptr<char[]> bigger(new char[capacity]);
  if (buf_size_ > 0) std::memcpy(bigger.get(), buf_.get(), buf_size_);
  buf_ = std::move(bigger);
  buf_capacity_ = capacity;
}

void CallSpoolWriter::AppendRaw(uint16_t slot, spool::RecordKind kind, uint8_t flags,
                                int64_t arrival_ns, std::string_view p) {
  const size_t n = spool::kRecordHeaderSizeV2 + p.size();
  if (buf_size_ + n > buf_capacity_) Grow(n);
  char* h = buf_.get() + buf_size_;
  PutU16(h, static_cast<uint16_t>(p.size()));
  h[2] = static_cast<char>(kind);
  h[3] = static_cast<char>(flags);
  PutU16(h + 4, slot);
  PutU16(h + 6, 0);  // reserved
  PutU64(h + 8, static_cast<uint64_t>(arrival_ns));
  if (!p.empty()) std::memcpy(h + spool::kRecordHeaderSizeV2, p.data(), p.size());
  uint32_t crc = Crc32cExtend(0, h, spool::kCrcOffsetV2);
  crc = Crc32cExtend(crc, p.data(), p.size());
  PutU32(h + spool::kCrcOffsetV2, crc);
  buf_size_ += n;
}

Result<uint16_t> CallSpoolWriter::AddSlot(std::string_view stream_id, int64_t opened_ns) {
  if (stream_id.empty() || stream_id.size() > spool::kMaxStreamIdBytes) {
    return InvalidArgumentError("declaring a stream in " + path_ + ": id of " +
                                std::to_string(stream_id.size()) + " bytes (1.." +
                                std::to_string(spool::kMaxStreamIdBytes) + ")");
  }
  if (owner_slots_.size() >= kMaxSlots) {
    return ResourceExhaustedError("declaring stream " + std::string(stream_id) + " in " + path_ +
                                  ": every slot (65536) is taken");
  }
  const auto slot = static_cast<uint16_t>(owner_slots_.size());
  {
    MutexLock lock(&slots_mu_);
    owner_slots_.push_back(&slots_.emplace_back());
  }
  // Never dropped, whatever the bound: the slot's records are only valid after it.
  AppendRaw(slot, spool::RecordKind::kStreamDeclaration, 0, opened_ns, stream_id);
  return slot;
}

void CallSpoolWriter::Append(uint16_t slot, spool::RecordKind kind, uint8_t flags,
                             int64_t arrival_ns, std::string_view payload) {
  CV_CHECK(slot < owner_slots_.size());
  Slot& s = *owner_slots_[slot];
  if (payload.size() > spool::kMaxPayload) payload = payload.substr(0, spool::kMaxPayload);
  // The owner is the only writer: plain stores, not locked read-modify-writes per packet.
  records_.store(records_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.records.store(s.records.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  size_t need = spool::kRecordHeaderSizeV2 + payload.size();
  if (s.pending_gap > 0) need += spool::kRecordHeaderSizeV2 + 4;
  if (buf_size_ + need > options_.max_buffer_bytes) {
    ++s.pending_gap;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    s.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (s.pending_gap > 0) {
    char count[4];
    PutU32(count, static_cast<uint32_t>(std::min<uint64_t>(s.pending_gap, UINT32_MAX)));
    AppendRaw(slot, spool::RecordKind::kGap, 0, arrival_ns, std::string_view(count, 4));
    s.pending_gap = 0;
  }
  AppendRaw(slot, kind, flags, arrival_ns, payload);
}

uint64_t CallSpoolWriter::slot_records(uint16_t slot) const {
  MutexLock lock(&slots_mu_);
  return slot < slots_.size() ? slots_[slot].records.load(std::memory_order_relaxed) : 0;
}

uint64_t CallSpoolWriter::slot_dropped(uint16_t slot) const {
  MutexLock lock(&slots_mu_);
  return slot < slots_.size() ? slots_[slot].dropped.load(std::memory_order_relaxed) : 0;
}

Status CallSpoolWriter::FlushLocked() {
  if (buf_size_ == 0) return Status::Ok();
  if (closed_ || file_ == nullptr) return FailedPreconditionError("flushing closed " + path_);
  const uint64_t before = file_->size();
  Status s = file_->AppendAndFlush(std::string_view(buf_.get(), buf_size_));
  if (s.ok()) {
    buf_size_ = 0;
    flushed_.store(file_->size());
    return s;
  }
  // Keep what the kernel did not take; resume after what it did (never a torn record + more).
  const uint64_t after = file_->size();
  const uint64_t landed = after > before ? std::min<uint64_t>(after - before, buf_size_) : 0;
  std::memmove(buf_.get(), buf_.get() + landed, buf_size_ - landed);
  buf_size_ -= landed;
  flushed_.store(before + landed);
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  NoteError(s);
  return s;
}

Status CallSpoolWriter::Flush() {
  MutexLock lock(&file_mu_);
  return FlushLocked();
}

bool CallSpoolWriter::TryFlush(Status* status) {
  if (buf_size_ == 0) {
    *status = Status::Ok();
    return true;
  }
  if (!file_mu_.TryLock()) return false;
  *status = FlushLocked();
  file_mu_.Unlock();
  return true;
}

Status CallSpoolWriter::Sync() {
  MutexLock lock(&file_mu_);
  if (closed_) return Status::Ok();
  const uint64_t target = file_->size();
  if (target != synced_.load()) {
    Status s = file_->Sync();
    if (!s.ok()) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      NoteError(s);
      return s;
    }
    RaiseSynced(target);
  }
  if (!dir_synced_.load()) {
    Status s = fs_->SyncDir(DirName(path_));
    if (!s.ok()) {
      NoteError(s);
      return s;
    }
    dir_synced_.store(true);
  }
  return Status::Ok();
}

void CallSpoolWriter::RaiseSynced(uint64_t bytes) {
  uint64_t cur = synced_.load();
  while (cur < bytes && !synced_.compare_exchange_weak(cur, bytes)) {
  }
}

void CallSpoolWriter::MarkSynced(uint64_t bytes) {
  RaiseSynced(bytes);
  dir_synced_.store(true);  // the name was made durable by the same sync
}

Status CallSpoolWriter::Close() {
  Status s;
  {
    MutexLock lock(&file_mu_);
    if (closed_) return FailedPreconditionError("closing closed spool file " + path_);
    s = FlushLocked();
  }
  Status sync = Sync();
  if (s.ok()) s = sync;
  MutexLock lock(&file_mu_);
  if (buf_size_ != 0) {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // at least one record is lost
    buf_size_ = 0;
  }
  Status close = file_->Close();
  if (!close.ok()) NoteError(close);
  if (s.ok()) s = close;
  closed_ = true;
  return s;
}

void CallSpoolWriter::NoteError(const Status& s) {
  MutexLock lock(&error_mu_);
  if (first_error_.ok()) first_error_ = s;
}

Status CallSpoolWriter::first_error() const {
  MutexLock lock(&error_mu_);
  return first_error_;
}

}  // namespace callvault::media
