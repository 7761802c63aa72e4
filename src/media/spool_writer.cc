#include "media/spool_writer.h"

#include <algorithm>
#include <cstring>

#include "media/crc32c.h"

namespace callvault::media {
namespace {

void PutU16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v);
  p[1] = static_cast<char>(v >> 8);
}
void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

Result<std::shared_ptr<SpoolWriter>> SpoolWriter::Create(Fs* fs, const std::string& path,
                                                         SpoolWriterOptions options) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs->NewAppendableFile(path));
  if (file->size() != 0) {
    file->Close().IgnoreError();  // we only looked
    return AlreadyExistsError("creating spool file " + path + ": already exists (" +
                              std::to_string(file->size()) + " bytes)");
  }
  char header[spool::kFileHeaderSize] = {};
  std::memcpy(header, spool::kMagic.data(), spool::kMagic.size());
  PutU16(header + 8, spool::kVersion);
  PutU16(header + 10, spool::kFileHeaderSize);
  PutU32(header + 12, 0);
  CV_RETURN_IF_ERROR(file->Append(std::string_view(header, sizeof(header))));
  CV_RETURN_IF_ERROR(file->Flush());
  std::shared_ptr<SpoolWriter> w(new SpoolWriter(fs, path, std::move(file), options));
  w->flushed_ = spool::kFileHeaderSize;
  return w;
}

SpoolWriter::SpoolWriter(Fs* fs, std::string path, std::unique_ptr<AppendableFile> file,
                         SpoolWriterOptions options)
    : fs_(fs), path_(std::move(path)), options_(options), file_(std::move(file)) {
  buf_.reserve(4096);
}

SpoolWriter::~SpoolWriter() = default;  // the AppendableFile closes itself

void SpoolWriter::AppendRaw(spool::RecordKind kind, uint8_t flags, int64_t arrival_ns,
                            std::string_view p) {
  const size_t at = buf_.size();
  buf_.resize(at + spool::kRecordHeaderSize + p.size());
  char* h = buf_.data() + at;
  PutU16(h, static_cast<uint16_t>(p.size()));
  h[2] = static_cast<char>(kind);
  h[3] = static_cast<char>(flags);
  PutU64(h + 4, static_cast<uint64_t>(arrival_ns));
  if (!p.empty()) std::memcpy(h + spool::kRecordHeaderSize, p.data(), p.size());
  uint32_t crc = Crc32cExtend(0, h, spool::kCrcOffset);
  crc = Crc32cExtend(crc, p.data(), p.size());
  PutU32(h + spool::kCrcOffset, crc);
}

void SpoolWriter::Append(spool::RecordKind kind, uint8_t flags, int64_t arrival_ns,
                         std::string_view payload) {
  if (payload.size() > spool::kMaxPayload) payload = payload.substr(0, spool::kMaxPayload);
  records_.fetch_add(1, std::memory_order_relaxed);
  size_t need = spool::kRecordHeaderSize + payload.size();
  if (pending_gap_ > 0) need += spool::kRecordHeaderSize + 4;
  if (buf_.size() + need > options_.max_buffer_bytes) {
    ++pending_gap_;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (pending_gap_ > 0) {
    char count[4];
    PutU32(count, static_cast<uint32_t>(std::min<uint64_t>(pending_gap_, UINT32_MAX)));
    AppendRaw(spool::RecordKind::kGap, 0, arrival_ns, std::string_view(count, 4));
    pending_gap_ = 0;
  }
  AppendRaw(kind, flags, arrival_ns, payload);
}

Status SpoolWriter::FlushLocked() {
  if (buf_.empty()) return Status::Ok();
  if (closed_ || file_ == nullptr) return FailedPreconditionError("flushing closed " + path_);
  const uint64_t before = file_->size();
  Status s = file_->Append(buf_);
  if (s.ok()) s = file_->Flush();
  if (s.ok()) {
    buf_.clear();
    flushed_.store(file_->size());
    return s;
  }
  // Keep what the kernel did not take; resume after what it did (never a torn record + more).
  const uint64_t after = file_->size();
  const uint64_t landed = after > before ? std::min<uint64_t>(after - before, buf_.size()) : 0;
  buf_.erase(0, landed);
  flushed_.store(before + landed);
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  NoteError(s);
  return s;
}

Status SpoolWriter::Flush() {
  MutexLock lock(&file_mu_);
  return FlushLocked();
}

bool SpoolWriter::TryFlush(Status* status) {
  if (buf_.empty()) {
    *status = Status::Ok();
    return true;
  }
  if (!file_mu_.TryLock()) return false;
  *status = FlushLocked();
  file_mu_.Unlock();
  return true;
}

Status SpoolWriter::Sync() {
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

void SpoolWriter::RaiseSynced(uint64_t bytes) {
  uint64_t cur = synced_.load();
  while (cur < bytes && !synced_.compare_exchange_weak(cur, bytes)) {
  }
}

void SpoolWriter::MarkSynced(uint64_t bytes) {
  RaiseSynced(bytes);
  dir_synced_.store(true);  // the name was made durable by the same sync
}

Status SpoolWriter::Close() {
  Status s;
  {
    MutexLock lock(&file_mu_);
    if (closed_) return FailedPreconditionError("closing closed spool file " + path_);
    s = FlushLocked();
  }
  Status sync = Sync();
  if (s.ok()) s = sync;
  MutexLock lock(&file_mu_);
  if (!buf_.empty()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // at least one record is lost
    buf_.clear();
  }
  Status close = file_->Close();
  if (!close.ok()) NoteError(close);
  if (s.ok()) s = close;
  closed_ = true;
  return s;
}

void SpoolWriter::NoteError(const Status& s) {
  MutexLock lock(&error_mu_);
  if (first_error_.ok()) first_error_ = s;
}

Status SpoolWriter::first_error() const {
  MutexLock lock(&error_mu_);
  return first_error_;
}

}  // namespace callvault::media
