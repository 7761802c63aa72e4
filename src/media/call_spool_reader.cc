#include "media/call_spool_reader.h"

#include <algorithm>
#include <optional>

namespace callvault::media {

struct CallSpoolReader::File {
  SpoolFileReport report;
  std::optional<SpoolReader> reader;
  bool has_record = false;  // `current` holds the file's next record
  CallRecord current;
};

CallSpoolReader::CallSpoolReader(CallSpoolReader&&) noexcept = default;
CallSpoolReader& CallSpoolReader::operator=(CallSpoolReader&&) noexcept = default;
CallSpoolReader::~CallSpoolReader() = default;

Result<CallSpoolReader> CallSpoolReader::Open(Fs& fs, const std::string& call_dir) {
  CV_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(call_dir));
  std::sort(names.begin(), names.end());
  CallSpoolReader r;
  // The version 2 file first: ties in arrival time then keep its order ahead of old files.
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string& n) { return n == spool::kCallSpoolName; });
  for (const std::string& name : names) {
    const std::string_view suffix = spool::kStreamFileSuffix;
    const bool v1 = name.size() > suffix.size() && name.ends_with(suffix);
    if (!v1 && name != spool::kCallSpoolName) continue;
    auto f = std::make_unique<File>();
    f->report.name = name;
    if (v1) {
      f->report.stream_id = name.substr(0, name.size() - suffix.size());
      r.Intern(f->report.stream_id);
    }
    const std::string path = call_dir + "/" + name;
    CV_ASSIGN_OR_RETURN(f->report.bytes, fs.FileSize(path));
    Result<SpoolReader> reader = SpoolReader::Open(fs, path);
    if (!reader.ok()) {
      if (reader.status().code() != StatusCode::kDataLoss &&
          reader.status().code() != StatusCode::kUnimplemented)
        return reader.status();
      f->report.ignored_bytes = f->report.bytes;
      f->report.tail = reader.status();
    } else {
      f->report.version = reader->version();
      f->reader.emplace(std::move(reader).value());
    }
    r.files_.push_back(std::move(f));
  }
  for (auto& f : r.files_)
    if (f->reader) r.Advance(*f);
  return r;
}

std::string_view CallSpoolReader::Intern(std::string_view id) {
  for (const auto& s : interned_)
    if (*s == id) return *s;
  interned_.push_back(std::make_unique<std::string>(id));
  stream_ids_.push_back(*interned_.back());
  return *interned_.back();
}

bool CallSpoolReader::Advance(File& f) {
  f.has_record = f.reader->Next(&f.current.record);
  if (f.has_record) {
    f.current.stream_id = f.report.version == spool::kVersion1 ? Intern(f.report.stream_id)
                                                               : Intern(f.current.record.stream);
    return true;
  }
  f.report.records = f.reader->records();
  f.report.ignored_bytes = f.reader->ignored_bytes();
  f.report.tail = f.reader->tail();
  if (!f.reader->read_error().ok() && read_error_.ok()) read_error_ = f.reader->read_error();
  return false;
}

bool CallSpoolReader::Next(CallRecord* record) {
  if (last_ != nullptr) {
    Advance(*last_);
    last_ = nullptr;
  }
  if (!read_error_.ok()) return false;
  File* best = nullptr;
  for (auto& f : files_) {
    if (!f->has_record) continue;
    if (best == nullptr || f->current.record.arrival_ns < best->current.record.arrival_ns)
      best = f.get();
  }
  if (best == nullptr) return false;
  *record = best->current;
  last_ = best;
  return true;
}

std::vector<SpoolFileReport> CallSpoolReader::files() const {
  std::vector<SpoolFileReport> out;
  for (const auto& f : files_) {
    SpoolFileReport r = f->report;
    if (f->reader && f->has_record) r.records = f->reader->records();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace callvault::media
