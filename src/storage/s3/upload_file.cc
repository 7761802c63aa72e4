// Client::UploadFile: one streamed PUT, or a multipart upload whose parts are read in order by
// the calling thread (hashing the whole object on the way) and sent by a few part threads, with
// at most parts_in_flight part buffers alive at once. The buffers are allocated once and reused
// from part to part: freeing and allocating a part-sized block per part let glibc's dynamic mmap
// threshold move those blocks onto the heap, where the peak RSS of a 300 MB upload came to one
// part above the bound (80.6 MiB for 4 × 16 MiB, bench/relocation_bench.cc).
#include <condition_variable>
#include <deque>
#include <thread>

#include "base/log.h"
#include "base/mutex.h"
#include "crypto/sha256.h"
#include "storage/s3/client.h"
#include "storage/s3/errors.h"

namespace callvault::storage::s3 {
namespace {

constexpr uint64_t kMaxParts = 10000;  // S3's limit
constexpr uint64_t kMiB = 1 << 20;

struct Part {
  uint32_t number = 0;  // from 1
  std::string data;
};

// What the reader and the part threads share.
struct Pipeline {
  Mutex mu;
  std::condition_variable cv;
  std::deque<Part> ready GUARDED_BY(mu);          // read, waiting for a part thread
  std::vector<std::string> spare GUARDED_BY(mu);  // sent parts' buffers, for the next reads
  uint32_t buffers GUARDED_BY(mu) = 0;            // parts in memory: read, queued or being sent
  uint32_t max_buffers GUARDED_BY(mu) = 0;
  bool reading_done GUARDED_BY(mu) = false;
  Status error GUARDED_BY(mu);  // the first failure
  std::vector<std::string> etags GUARDED_BY(mu);
};

}  // namespace

Result<UploadResult> Client::UploadFile(std::string_view key, const RandomAccessFile& file,
                                        uint64_t size, std::string_view sha256_hex,
                                        const ObjectMetadata& metadata) {
  if (size >= options_.multipart_threshold_bytes() && size > options_.part_size_bytes()) {
    return UploadMultipart(key, file, size, metadata);
  }
  CV_ASSIGN_OR_RETURN(PutResult put, PutObject(key, file, 0, size, sha256_hex, metadata));
  return UploadResult{
      .etag = std::move(put.etag), .sent_sha256 = std::move(put.sent_sha256), .bytes = size};
}

Result<UploadResult> Client::UploadMultipart(std::string_view key, const RandomAccessFile& file,
                                             uint64_t size, const ObjectMetadata& metadata) {
  uint64_t part_size = options_.part_size_bytes();
  if ((size + part_size - 1) / part_size > kMaxParts) {
    // Larger parts rather than a failure: whole MiB, enough for 10000 parts.
    part_size = ((size + kMaxParts - 1) / kMaxParts + kMiB - 1) / kMiB * kMiB;
  }
  const auto part_count = static_cast<uint32_t>((size + part_size - 1) / part_size);
  const uint32_t in_flight = options_.parts_in_flight;
  CV_ASSIGN_OR_RETURN(const std::string upload_id, CreateMultipartUpload(key, metadata));

  Pipeline p;
  {
    MutexLock lock(&p.mu);
    p.etags.resize(part_count);
  }
  auto send_parts = [&] {
    for (;;) {
      Part part;
      {
        MutexLock lock(&p.mu);
        while (p.ready.empty() && !p.reading_done && p.error.ok()) p.mu.Wait(p.cv);
        if (p.ready.empty() || !p.error.ok()) return;
        part = std::move(p.ready.front());
        p.ready.pop_front();
      }
      Result<PutResult> sent = UploadPart(key, upload_id, part.number, part.data);
      MutexLock lock(&p.mu);
      p.spare.push_back(std::move(part.data));  // reused by the next read, never a new block
      --p.buffers;
      if (sent.ok()) {
        p.etags[part.number - 1] = sent->etag;
      } else if (p.error.ok()) {
        p.error = sent.status();
      }
      p.cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < std::min(in_flight, part_count); ++i) threads.emplace_back(send_parts);

  crypto::Sha256 whole;
  for (uint32_t n = 1; n <= part_count; ++n) {
    {
      MutexLock lock(&p.mu);
      while (p.buffers >= in_flight && p.error.ok()) p.mu.Wait(p.cv);
      if (!p.error.ok()) break;
      ++p.buffers;
      p.max_buffers = std::max(p.max_buffers, p.buffers);
    }
    const uint64_t offset = uint64_t{n - 1} * part_size;
    Part part{.number = n};
    {
      MutexLock lock(&p.mu);
      if (!p.spare.empty()) {
        part.data = std::move(p.spare.back());
        p.spare.pop_back();
      }
    }
    part.data.resize(static_cast<size_t>(std::min(part_size, size - offset)));
    Result<size_t> got = file.Read(offset, part.data.size(), part.data.data());
    Status read_status = got.status();
    if (got.ok() && *got != part.data.size()) {
      read_status = DataLossError("reading " + file.path() + ": shorter than " +
                                  std::to_string(size) + " bytes");
    }
    MutexLock lock(&p.mu);
    if (!read_status.ok()) {
      --p.buffers;
      if (p.error.ok()) p.error = read_status.Annotate("s3 UploadFile " + std::string(key));
      p.cv.notify_all();
      break;
    }
    whole.Update(part.data);
    p.ready.push_back(std::move(part));
    p.cv.notify_all();
  }
  {
    MutexLock lock(&p.mu);
    p.reading_done = true;
    p.cv.notify_all();
  }
  for (std::thread& t : threads) t.join();

  Status error;
  std::vector<std::string> etags;
  uint32_t max_buffers = 0;
  {
    MutexLock lock(&p.mu);
    error = p.error;
    etags = std::move(p.etags);
    max_buffers = p.max_buffers;
  }
  Result<std::string> etag =
      error.ok() ? CompleteMultipartUpload(key, upload_id, etags) : Result<std::string>(error);
  if (!etag.ok()) {
    const Status aborted = AbortMultipartUpload(key, upload_id);
    CV_LOG_WARN("s3.multipart_aborted", "key=\"{}\" upload_id={} error=\"{}\" abort=\"{}\"", key,
                upload_id, etag.status().ToString(), aborted.ToString());
    return etag.status();
  }
  return UploadResult{.etag = std::move(*etag),
                      .sent_sha256 = whole.HexDigest(),
                      .bytes = size,
                      .multipart = true,
                      .parts = part_count,
                      .max_parts_in_memory = max_buffers};
}

}  // namespace callvault::storage::s3
