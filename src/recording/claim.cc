#include "recording/claim.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace callvault::recording {
namespace {

std::mutex& NameMutex() {
  static std::mutex mu;
  return mu;
}

std::mutex& InFlightMutex() {
  static std::mutex mu;
  return mu;
}

std::set<std::string>& InFlightSet() {
  static std::set<std::string>* set = new std::set<std::string>();
  return *set;
}

constexpr int kMaxCandidates = 10000;

std::string Marker(const std::string& call_id) { return "callvault claim " + call_id + "\n"; }

// True when `audio` is the placeholder this call left (a crash before its CLAIM was durable).
bool IsOurPlaceholder(Fs& fs, const std::string& audio, const std::string& call_id) {
  Result<uint64_t> size = fs.FileSize(audio);
  if (!size.ok() || *size > 256) return false;
  Result<std::string> text = fs.ReadFile(audio);
  return text.ok() && *text == Marker(call_id);
}

}  // namespace

bool ManifestIsFor(Fs& fs, const std::string& manifest_path, const std::string& call_id) {
  Result<std::string> text = fs.ReadFile(manifest_path);
  if (!text.ok()) return false;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto it = j.find("call_id");
  return it != j.end() && it->is_string() && it->get<std::string>() == call_id;
}

namespace {
// Directories this process made durable (CreateDirsDurably): a directory stays durable once
// synced, so the next call for it costs one lookup instead of a sync per path component.
std::mutex& DurableDirsMutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& DurableDirs() {
  static std::set<std::string>* set = new std::set<std::string>();
  return *set;
}
}  // namespace

Status CreateDirsDurably(Fs& fs, const std::string& root, const std::string& relative_dir) {
  const std::string full = root + "/" + relative_dir;
  {
    std::lock_guard<std::mutex> lock(DurableDirsMutex());
    if (DurableDirs().count(full) && fs.Exists(full)) return Status::Ok();
  }
  CV_RETURN_IF_ERROR(fs.CreateDirs(full));
  // fsync the root's parent too: the recordings dir itself may be new.
  CV_RETURN_IF_ERROR(fs.SyncDir(DirName(root)));
  std::string dir = root;
  CV_RETURN_IF_ERROR(fs.SyncDir(dir));
  size_t start = 0;
  while (start < relative_dir.size()) {
    size_t slash = relative_dir.find('/', start);
    if (slash == std::string::npos) slash = relative_dir.size();
    dir += "/" + relative_dir.substr(start, slash - start);
    CV_RETURN_IF_ERROR(fs.SyncDir(dir));
    start = slash + 1;
  }
  std::lock_guard<std::mutex> lock(DurableDirsMutex());
  if (DurableDirs().size() >= 100000) DurableDirs().clear();  // bounded
  DurableDirs().insert(full);
  return Status::Ok();
}

Result<Claim> ClaimName(Fs& fs, const std::string& recordings_dir, const std::string& base,
                        const std::string& extension, const std::string& call_id) {
  const std::string rel_dir = base.find('/') == std::string::npos ? "" : DirName(base);
  if (!rel_dir.empty()) {
    CV_RETURN_IF_ERROR(CreateDirsDurably(fs, recordings_dir, rel_dir).Annotate("claiming a name"));
  } else {
    CV_RETURN_IF_ERROR(fs.CreateDirs(recordings_dir).Annotate("claiming a name"));
  }
  std::lock_guard<std::mutex> lock(NameMutex());
  for (int k = 1; k <= kMaxCandidates; ++k) {
    const std::string rel = base + (k == 1 ? "" : "_" + std::to_string(k)) + "." + extension;
    const std::string audio = recordings_dir + "/" + rel;
    const std::string manifest = audio + ".json";
    if (fs.Exists(manifest)) {
      if (ManifestIsFor(fs, manifest, call_id)) return Claim{.relative = rel, .existing = true};
      continue;
    }
    if (fs.Exists(audio)) {
      if (IsOurPlaceholder(fs, audio, call_id)) return Claim{.relative = rel, .existing = false};
      continue;
    }
    // Free: reserve it with a placeholder naming the call, durable before it is relied on.
    Status s = [&]() -> Status {
      CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs.NewWritableFile(audio));
      CV_RETURN_IF_ERROR(file->Append(Marker(call_id)));
      CV_RETURN_IF_ERROR(file->Sync());
      CV_RETURN_IF_ERROR(file->Close());
      return fs.SyncDir(DirName(audio));
    }();
    if (!s.ok()) {
      fs.Remove(audio).IgnoreError();  // best effort: an empty leftover only costs a "_2"
      return s.Annotate("claiming " + audio);
    }
    return Claim{.relative = rel, .existing = false};
  }
  return ResourceExhaustedError("claiming a name: " + std::to_string(kMaxCandidates) +
                                " names taken for " + base);
}

InFlight::InFlight(std::string call_id) : call_id_(std::move(call_id)) {
  std::lock_guard<std::mutex> lock(InFlightMutex());
  ok_ = InFlightSet().insert(call_id_).second;
}

InFlight::~InFlight() {
  if (!ok_) return;
  std::lock_guard<std::mutex> lock(InFlightMutex());
  InFlightSet().erase(call_id_);
}

}  // namespace callvault::recording
