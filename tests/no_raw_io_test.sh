#!/usr/bin/env bash
# No raw file I/O outside src/base/: every disk access goes through base/fs.h (`Fs`), so tests can
# inject faults and simulate crashes (FaultInjectingFs; docs/architecture.md, STYLE.md §5).
#
#   no_raw_io_test.sh <src dir>   fails (exit 1) listing every offending file:line
#   no_raw_io_test.sh --self-test checks that the patterns catch what they should
#
# Looked for in non-test C++ sources under <src dir> outside base/: ::open( ::openat( ::unlink(
# ::unlinkat( pread/pwrite (and their 64/v forms), ::rename( ::renameat(, the std::filesystem
# functions that write (create_directory/-ies, remove, remove_all, rename, copy, copy_file, ...),
# and namespace aliases or using-directives of std::filesystem (which would hide those calls).
# Exempt: src/base/, *_test.cc, and test fixtures in testing/ directories. Text after // is
# ignored (comments may name the calls).
set -euo pipefail

readonly FS_WRITES='create_directory|create_directories|create_hard_link|create_symlink|create_directory_symlink|copy|copy_file|copy_symlink|remove|remove_all|rename|resize_file|permissions|last_write_time'
readonly PATTERN="::(open|openat|unlink|unlinkat|rename|renameat)[[:space:]]*\(|(^|[^[:alnum:]_])(pread|pread64|preadv|preadv2|pwrite|pwrite64|pwritev|pwritev2)[[:space:]]*\(|std::filesystem::(${FS_WRITES})[[:space:]]*\(|namespace[[:space:]]+[[:alnum:]_]+[[:space:]]*=[[:space:]]*(::)?std::filesystem|using[[:space:]]+namespace[[:space:]]+(::)?std::filesystem"

# Prints "<path relative to src>:<line>: <code>" for every offending line under $1.
scan() {
  local src="$1"
  (cd "$src" && find . -type f \( -name '*.cc' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) \
      ! -path './base/*' ! -name '*_test.cc' ! -path '*/testing/*' | LC_ALL=C sort) |
    while IFS= read -r file; do
      file="${file#./}"
      # Drop // comments, keep line numbers.
      sed -e 's://.*$::' "$src/$file" | { grep -nE "$PATTERN" || true; } |
        sed -e "s|^\([0-9]*\):[[:space:]]*|src/${file}:\1: |"
    done
}

check() {
  local src="$1" found
  found="$(scan "$src")"
  if [[ -n "$found" ]]; then
    echo "Raw file I/O outside src/base/: use base/fs.h (Fs, DefaultFs()) instead."
    echo "$found"
    echo "($(wc -l <<<"$found") offending line(s))"
    return 1
  fi
  echo "no raw file I/O outside src/base/ in $src"
}

self_test() {
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/base" "$tmp/http/testing" "$tmp/app"
  printf '%s\n' 'int fd = ::open(p, O_RDONLY);' 'pread(fd, b, n, 0);' > "$tmp/base/fs.cc"
  printf '%s\n' '::unlink(p.c_str());' > "$tmp/http/testing/fixture.h"
  printf '%s\n' 'std::filesystem::remove_all(d);' > "$tmp/http/api_test.cc"
  printf '%s\n' \
    '// ::unlink(p) and pread in a comment are fine' \
    'int fd = ::open(path.c_str(), O_RDONLY);' \
    'ssize_t r = ::pread(fd, buf, n, off);' \
    'x = spread(y); fs.Remove(p); std::filesystem::exists(p);' \
    'if (::unlink(a) != 0) ::rename(a, b);' \
    '  std::filesystem::create_directories(dir, ec);' \
    'namespace fs = std::filesystem;' \
    'pwrite64 (fd, b, n, 0);  // and a comment' > "$tmp/http/api.cc"
  printf '%s\n' 'using namespace std::filesystem;' > "$tmp/app/server.h"
  local expected got
  expected="$(printf '%s\n' \
    'src/app/server.h:1: using namespace std::filesystem;' \
    'src/http/api.cc:2: int fd = ::open(path.c_str(), O_RDONLY);' \
    'src/http/api.cc:3: ssize_t r = ::pread(fd, buf, n, off);' \
    'src/http/api.cc:5: if (::unlink(a) != 0) ::rename(a, b);' \
    'src/http/api.cc:6: std::filesystem::create_directories(dir, ec);' \
    'src/http/api.cc:7: namespace fs = std::filesystem;' \
    'src/http/api.cc:8: pwrite64 (fd, b, n, 0);  ')"
  got="$(scan "$tmp")"
  if [[ "$got" != "$expected" ]]; then
    echo "self-test failed: expected"
    echo "$expected"
    echo "got"
    echo "$got"
    return 1
  fi
  if check "$tmp" >/dev/null; then
    echo "self-test failed: check passed on offending sources"
    return 1
  fi
  echo "self-test passed"
}

if [[ "${1:-}" == "--self-test" ]]; then
  self_test
else
  check "${1:?usage: no_raw_io_test.sh <src dir> | --self-test}"
fi
