#include "ir/file_io.h"

#include "ir/dtype.h"
#include "ir/error.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <new>

namespace kiln {

namespace fs = std::filesystem;

namespace {

// A temporary is named "NAME.tmp.HOST.PID.XXXXXX" after who writes it. The
// host is cut short so that the name leaves room for the file's own.
std::string temporary_prefix(const fs::path &path) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return fmt::format("{}.tmp.{}.", path.filename().string(),
                     std::string_view(host, ::strnlen(host, 32)));
}

// Whether `writer` ("PID.XXXXXX", after this host's temporary prefix) names
// a process that no longer runs.
bool writer_is_gone(std::string_view writer) {
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(writer.data(), writer.data() + writer.size(), pid);
  std::string_view random(end, size_t(writer.data() + writer.size() - end));
  if (ec != std::errc{} || pid <= 0 || pid == ::getpid() || random.size() != 7 || random[0] != '.')
    return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Removes the temporaries of `path` that writers on this host left when
// they were killed mid-save. Best effort: a save does not fail for it.
void remove_stale_temporaries(const fs::path &path) {
  std::string prefix = temporary_prefix(path);
  std::error_code error;
  fs::path dir = path.parent_path().empty() ? "." : path.parent_path();
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(prefix) && writer_is_gone(std::string_view(name).substr(prefix.size())))
      ::unlink(it->path().c_str());
  }
}

// Fails unless `mode` is a regular file's or a pipe's.
void check_readable(const fs::path &path, mode_t mode) {
  if (S_ISREG(mode) || S_ISFIFO(mode)) return;
  if (S_ISDIR(mode)) fail("cannot read '{}': it is a directory", path.string());
  const char *kind = S_ISCHR(mode)    ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "a special file";
  fail("cannot read '{}': it is {}, not a regular file or a pipe", path.string(), kind);
}

} // namespace

void write_file_atomically(const fs::path &path, std::string_view bytes, Durability durability) {
  remove_stale_temporaries(path);
  // A temporary of its own (mkstemp) beside the file: concurrent writers of
  // one path never share one, so each publishes a complete file.
  std::string tmp = (path.parent_path() / temporary_prefix(path)).string() +
                    std::to_string(::getpid()) + ".XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    int err = errno;
    fail("cannot write '{}': {}", path.string(), std::strerror(err));
  }
  auto give_up = [&](const char *what, int err, bool open) {
    if (open) ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot {} '{}': {}", what, path.string(), std::strerror(err));
  };
  if (::fchmod(fd, 0644) != 0) give_up("write", errno, true);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) give_up("write", n < 0 ? errno : EIO, true);
    done += static_cast<size_t>(n);
  }
  if (durability == Durability::synced && ::fsync(fd) != 0) give_up("write", errno, true);
  if (::close(fd) != 0) give_up("write", errno, false);
  if (::rename(tmp.c_str(), path.c_str()) != 0) give_up("replace", errno, false);
  if (durability == Durability::none) return;
  // The rename itself survives a crash once the directory is on disk; failing
  // that, the new file is in place all the same, so it is not an error.
  fs::path dir = path.parent_path().empty() ? "." : path.parent_path();
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
}

InputFile::InputFile(const fs::path &path) {
  // Checked before opening too: opening a device can act (a tape rewinds),
  // and opening a socket fails with a less helpful message.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) check_readable(path, st.st_mode);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    fail("cannot open '{}': {}", path.string(), std::strerror(err));
  }
  // And what was opened, which may not be what was checked.
  try {
    if (::fstat(fd_, &st) != 0) {
      int err = errno;
      fail("cannot read '{}': {}", path.string(), std::strerror(err));
    }
    check_readable(path, st.st_mode);
  } catch (const Error &) {
    ::close(fd_);
    throw;
  }
  pipe_ = S_ISFIFO(st.st_mode);
  size_ = pipe_ ? 0 : size_t(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string read_file(const fs::path &path, size_t max_pipe_bytes) {
  InputFile file(path);
  // POSIX reads, not streams: `out << in.rdbuf()` turns a read error into
  // failbit on `out`, keeping the bytes read before it, so a failed read
  // passed for a short file.
  std::string bytes;
  size_t done = 0, wanted = file.size();
  // Straight into `bytes` up to the size fstat gave; past it (a pipe, a
  // /proc file, a file that grew) through `chunk`, up to a bound.
  const size_t limit = file.size() + max_pipe_bytes;
  char chunk[1 << 16];
  try {
    bytes.resize(wanted);
    for (;;) {
      bool room = done < bytes.size();
      ssize_t n = room ? ::read(file.fd(), bytes.data() + done, bytes.size() - done)
                       : ::read(file.fd(), chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        fail("cannot read '{}': {}", path.string(), std::strerror(err));
      }
      if (n == 0) break;
      if (!room) {
        if (done + size_t(n) > limit && file.is_pipe())
          fail("cannot read '{}': the pipe gives more than {}, the most kiln reads from one",
               path.string(), human_bytes(limit));
        if (done + size_t(n) > limit)
          fail("cannot read '{}': it grew past {} while being read", path.string(),
               human_bytes(limit));
        wanted = done + size_t(n);
        bytes.append(chunk, size_t(n));
      }
      done += size_t(n);
    }
  } catch (const std::bad_alloc &) {
    fail("cannot allocate {} to read '{}': out of memory", human_bytes(wanted), path.string());
  }
  bytes.resize(done); // shorter when the file shrank
  return bytes;
}

} // namespace kiln
