#include "media/call_spool_writer.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "base/log.h"
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
    : fs_(fs),
      path_(std::move(path)),
      options_(options),
      call_id_(BaseName(DirName(path_))),
      file_(std::move(file)) {
  Grow(4096);
}

CallSpoolWriter::~CallSpoolWriter() {  // the AppendableFile closes itself
  if (options_.budget != nullptr && reserved_ > 0) options_.budget->Release(reserved_);
}

bool CallSpoolWriter::Reserve(size_t total, bool force) {
  if (options_.budget == nullptr || total <= reserved_) return true;
  const size_t chunk = SpoolMemoryBudget::kChunk;
  const size_t want = (total - reserved_ + chunk - 1) / chunk * chunk;
  if (force) {
    options_.budget->Force(want);
  } else if (!options_.budget->TryReserve(want)) {
    return false;
  }
  reserved_ += want;
  return true;
}

void CallSpoolWriter::ReleaseExcess() {
  if (options_.budget == nullptr) return;
  const size_t chunk = SpoolMemoryBudget::kChunk;
  const size_t keep = (buf_size_ + chunk - 1) / chunk * chunk;
  if (reserved_ <= keep) return;
  options_.budget->Release(reserved_ - keep);
  reserved_ = keep;
}

spool::UnwrittenReason CallSpoolWriter::CurrentReason() const {
  const int code = last_error_code_.load(std::memory_order_relaxed);
  if (code == 0) return spool::UnwrittenReason::kBufferFull;
  if (code == static_cast<int>(StatusCode::kResourceExhausted))
    return spool::UnwrittenReason::kDiskFull;
  return spool::UnwrittenReason::kWriteError;
}

void CallSpoolWriter::Drop(Slot& s, int64_t arrival_ns) {
  if (s.unwritten == 0) {
    s.first_ns = arrival_ns;
    s.reason = CurrentReason();
    CV_LOG_WARN("media.spool_dropping",
                "call={} stream={} reason={} buffered_bytes={} budget_used_bytes={} "
                "note=\"records are dropped and counted until there is room\"",
                call_id_, s.stream_id, spool::UnwrittenReasonName(s.reason), buf_size_,
                options_.budget ? options_.budget->used() : 0);
  }
  ++s.unwritten;
  s.last_ns = std::max(s.last_ns, arrival_ns);
  dropped_.fetch_add(1, std::memory_order_relaxed);
  s.dropped.fetch_add(1, std::memory_order_relaxed);
  Counter* c = s.reason == spool::UnwrittenReason::kDiskFull     ? options_.counters.disk_full
               : s.reason == spool::UnwrittenReason::kWriteError ? options_.counters.write_error
                                                                 : options_.counters.buffer_full;
  if (c != nullptr) c->Inc();
}

void CallSpoolWriter::AppendUnwrittenMarker(uint16_t slot, Slot& s) {
  char p[spool::kUnwrittenPayloadSize];
  PutU32(p, static_cast<uint32_t>(std::min<uint64_t>(s.unwritten, UINT32_MAX)));
  p[4] = static_cast<char>(s.reason);
  PutU64(p + 5, static_cast<uint64_t>(s.first_ns));
  PutU64(p + 13, static_cast<uint64_t>(s.last_ns));
  Reserve(buf_size_ + spool::kRecordHeaderSizeV2 + sizeof(p), /*force=*/true);
  AppendRaw(slot, spool::RecordKind::kUnwritten, 0, s.first_ns, std::string_view(p, sizeof(p)));
  CV_LOG_INFO("media.spool_drop_ended",
              "call={} stream={} reason={} dropped={} from_ns={} to_ns={} duration_ms={}", call_id_,
              s.stream_id, spool::UnwrittenReasonName(s.reason), s.unwritten, s.first_ns, s.last_ns,
              (s.last_ns - s.first_ns) / 1'000'000);
  s.unwritten = 0;
  s.first_ns = s.last_ns = 0;
}

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
    owner_slots_.back()->stream_id = std::string(stream_id);
  }
  // Never dropped, whatever the bound: the slot's records are only valid after it.
  Reserve(buf_size_ + spool::kRecordHeaderSizeV2 + stream_id.size(), /*force=*/true);
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
  const size_t need = spool::kRecordHeaderSizeV2 + payload.size();
  const size_t marker =
      s.unwritten > 0 ? spool::kRecordHeaderSizeV2 + spool::kUnwrittenPayloadSize : 0;
  if (buf_size_ + need + marker > options_.max_buffer_bytes ||
      !Reserve(buf_size_ + need + marker, /*force=*/false)) {
    Drop(s, arrival_ns);
    return;
  }
  if (s.unwritten > 0) AppendUnwrittenMarker(slot, s);
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
    ReleaseExcess();
    if (failing_.exchange(false)) {
      error_logged_.store(false);  // a new run of failures is logged again
      CV_LOG_INFO("media.spool_write_recovered", "call={} path={} bytes={}", call_id_, path_,
                  before);
    }
    if (!outage_marker_.empty()) {                // everything is in the file again
      fs_->Remove(outage_marker_).IgnoreError();  // a leftover only adds a warning
      outage_marker_.clear();
    }
    return s;
  }
  // Keep what the kernel did not take; resume after what it did (never a torn record + more).
  const uint64_t after = file_->size();
  const uint64_t landed = after > before ? std::min<uint64_t>(after - before, buf_size_) : 0;
  if (outage_marker_.empty() && s.code() == StatusCode::kResourceExhausted)
    MarkOutage(FirstArrivalFrom(landed));
  std::memmove(buf_.get(), buf_.get() + landed, buf_size_ - landed);
  buf_size_ -= landed;
  flushed_.store(before + landed);
  ReleaseExcess();
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  NoteError(s);
  return s;
}

int64_t CallSpoolWriter::FirstArrivalFrom(uint64_t offset) const {
  for (size_t pos = 0; pos + spool::kRecordHeaderSizeV2 <= buf_size_;) {
    const char* h = buf_.get() + pos;
    const size_t len = static_cast<uint8_t>(h[0]) | static_cast<size_t>(static_cast<uint8_t>(h[1]))
                                                        << 8;
    if (pos + spool::kRecordHeaderSizeV2 + len > offset) {
      int64_t ns;
      std::memcpy(&ns, h + 8, sizeof(ns));  // little-endian hosts (PutLe)
      return ns;
    }
    pos += spool::kRecordHeaderSizeV2 + len;
  }
  return 0;
}

void CallSpoolWriter::MarkOutage(int64_t since_ns) {
  // An empty file needs no data block, so it can be created on a full filesystem; its name says
  // since when the disk refuses this call's records. Removed once they are all written; left
  // behind (a crash, or Stop giving up) it tells the finalizer what the spool cannot.
  if (since_ns <= 0) return;
  const std::string marker =
      DirName(path_) + "/" + std::string(spool::kDiskFullMarkerPrefix) + std::to_string(since_ns);
  Result<std::unique_ptr<AppendableFile>> f = fs_->NewWritableFile(marker);
  if (!f.ok() || !(*f)->Close().ok()) return;  // best effort: the loss is logged either way
  outage_marker_ = marker;
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
  {
    MutexLock lock(&file_mu_);
    if (closed_) return FailedPreconditionError("closing closed spool file " + path_);
  }
  // The slots still dropping get their marker now: they have no next record.
  for (size_t i = 0; i < owner_slots_.size(); ++i)
    if (owner_slots_[i]->unwritten > 0)
      AppendUnwrittenMarker(static_cast<uint16_t>(i), *owner_slots_[i]);
  {
    MutexLock lock(&file_mu_);
    CV_RETURN_IF_ERROR(FlushLocked());  // all kept for the next Close()
  }
  CV_RETURN_IF_ERROR(Sync());
  MutexLock lock(&file_mu_);
  Status close = file_->Close();
  if (!close.ok()) NoteError(close);
  closed_ = true;
  return close;
}

uint64_t CallSpoolWriter::Abandon() {
  // Count the RTP/RTCP records still buffered (the records are whole: see FlushLocked).
  uint64_t lost = 0;
  for (size_t pos = 0; pos + spool::kRecordHeaderSizeV2 <= buf_size_;) {
    const char* h = buf_.get() + pos;
    const size_t len = static_cast<uint8_t>(h[0]) | static_cast<size_t>(static_cast<uint8_t>(h[1]))
                                                        << 8;
    const auto kind = static_cast<spool::RecordKind>(static_cast<uint8_t>(h[2]));
    if (kind == spool::RecordKind::kRtp || kind == spool::RecordKind::kRtcp) ++lost;
    pos += spool::kRecordHeaderSizeV2 + len;
  }
  dropped_.fetch_add(lost, std::memory_order_relaxed);
  const spool::UnwrittenReason reason = CurrentReason();
  Counter* c = reason == spool::UnwrittenReason::kDiskFull     ? options_.counters.disk_full
               : reason == spool::UnwrittenReason::kWriteError ? options_.counters.write_error
                                                               : options_.counters.buffer_full;
  if (c != nullptr) c->Add(lost);
  for (Slot* s : owner_slots_) lost += s->unwritten;  // counted when they were dropped
  MutexLock lock(&file_mu_);
  buf_size_ = 0;
  ReleaseExcess();
  if (!closed_) {
    file_->Close().IgnoreError();  // what it still held is what is counted above
    closed_ = true;
  }
  return lost;
}

bool CallSpoolWriter::closed() const {
  MutexLock lock(&file_mu_);
  return closed_;
}

void CallSpoolWriter::NoteError(const Status& s) {
  failing_.store(true);
  last_error_code_.store(static_cast<int>(s.code()), std::memory_order_relaxed);
  MutexLock lock(&error_mu_);
  if (first_error_.ok()) first_error_ = s;
}

Status CallSpoolWriter::first_error() const {
  MutexLock lock(&error_mu_);
  return first_error_;
}

}  // namespace callvault::media
