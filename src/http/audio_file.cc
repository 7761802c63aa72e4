#include "http/audio_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace callvault::http {

Result<std::string> AudioPath(const std::string& recordings_dir, const std::string& relative) {
  if (recordings_dir.empty()) {
    return FailedPreconditionError("http.recordings_dir is not configured");
  }
  if (relative.empty() || relative.front() == '/' || relative.find('\0') != std::string::npos) {
    return InvalidArgumentError("audio file path '" + relative + "' is not relative");
  }
  std::string_view rest = relative;
  while (true) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgumentError("audio file path '" + relative + "' leaves the directory");
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::string dir = recordings_dir;
  if (dir.back() != '/') dir += '/';
  return dir + relative;
}

Result<std::unique_ptr<AudioFile>> AudioFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFoundError("no audio file " + path);
    return IoError("opening " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    return IoError("stat " + path, err ? err : EINVAL);
  }
  return std::unique_ptr<AudioFile>(new AudioFile(fd, static_cast<uint64_t>(st.st_size)));
}

AudioFile::~AudioFile() { ::close(fd_); }

ssize_t AudioFile::ReadAt(uint64_t offset, char* buf, size_t n) const {
  while (true) {
    ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace callvault::http
