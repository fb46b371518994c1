#include "ir/file_io.h"

#include "ir/dtype.h"
#include "ir/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace kiln {

void write_file_atomically(const std::filesystem::path &path, std::string_view bytes,
                           Durability durability) {
  // A temporary of its own (mkstemp) beside the file: concurrent writers of
  // one path never share one, so each publishes a complete file.
  std::string tmp = path.string() + ".tmp.XXXXXX";
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
  std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
}

std::string read_file(const std::filesystem::path &path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    fail("cannot read '{}': it is a directory", path.string());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    fail("cannot open '{}': {}", path.string(), std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // POSIX reads, not streams: `out << in.rdbuf()` turns a read error into
  // failbit on `out`, keeping the bytes read before it, so a failed read
  // passed for a short file.
  struct stat st {};
  size_t size = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? size_t(st.st_size) : 0;
  std::string bytes;
  try {
    bytes.resize(size);
  } catch (const std::bad_alloc &) {
    fail("cannot allocate {} to read '{}': out of memory", human_bytes(size), path.string());
  }
  // Straight into `bytes` up to the size fstat gave; past it (a /proc file,
  // a file that grew) through `chunk`.
  size_t done = 0;
  char chunk[1 << 16];
  for (;;) {
    bool room = done < bytes.size();
    ssize_t n = room ? ::read(fd, bytes.data() + done, bytes.size() - done)
                     : ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      fail("cannot read '{}': {}", path.string(), std::strerror(err));
    }
    if (n == 0) break;
    if (!room) bytes.append(chunk, size_t(n));
    done += size_t(n);
  }
  bytes.resize(done); // shorter when the file shrank
  return bytes;
}

} // namespace kiln
