// Hostile and unlucky files: devices, sockets and endless pipes are refused
// or cut off with a message naming the file, an IDX header's sizes are
// checked against the bytes present, and a save removes the temporaries of
// earlier saves that were killed.
#include "data/idx.h"
#include "ir/error.h"
#include "ir/file_io.h"
#include "temp_dir.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <zlib.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

using namespace kiln;
namespace fs = std::filesystem;

namespace {

using test::error_of;

// A child process that opens the FIFO `path` and writes `bytes` to it
// `times` times (-1: until it is killed or the reader goes), then exits.
pid_t fifo_writer(const fs::path &path, const std::string &bytes, int times) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid > 0) return pid;
  int fd = ::open(path.c_str(), O_WRONLY);
  for (int i = 0; fd >= 0 && i != times; ++i)
    for (size_t done = 0; done < bytes.size();) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) ::_exit(0);
      done += size_t(n);
    }
  ::_exit(0);
}

void reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string idx_bytes(std::initializer_list<uint32_t> dims, size_t data_bytes) {
  std::string out = {0, 0, 0x08, char(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((d >> shift) & 0xff));
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(char(i));
  return out;
}

void write_gzip(const fs::path &path, const std::string &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// The temporaries of `name` in `dir`, and of those, the ones `pid` wrote.
size_t temporaries(const fs::path &dir, const std::string &name, pid_t pid = 0) {
  size_t n = 0;
  for (const auto &e : fs::directory_iterator(dir)) {
    std::string file = e.path().filename().string();
    n += file.starts_with(name + ".tmp.") &&
         (pid == 0 || file.find(fmt::format(".{}.", pid)) != std::string::npos);
  }
  return n;
}

} // namespace

TEST_CASE("file_io: devices and sockets are refused before a byte is read", "[file_io][errors]") {
  CHECK(error_of([] { read_file("/dev/zero"); }) ==
        "cannot read '/dev/zero': it is a character device, not a regular file or a pipe");
  test::TempDir dir;
  fs::create_symlink("/dev/zero", dir / "zeros.kiln");
  CHECK(error_of([&] { read_file(dir / "zeros.kiln"); }) ==
        "cannot read '" + (dir / "zeros.kiln").string() +
            "': it is a character device, not a regular file or a pipe");

  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string socket_path = (dir / "s").string();
  REQUIRE(socket_path.size() < sizeof address.sun_path);
  std::strcpy(address.sun_path, socket_path.c_str());
  REQUIRE(::bind(s, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0);
  CHECK(error_of([&] { read_file(socket_path); }) ==
        "cannot read '" + socket_path + "': it is a socket, not a regular file or a pipe");
  ::close(s);
}

TEST_CASE("file_io: a pipe is read to its end, and cut off past a bound", "[file_io][errors]") {
  test::TempDir dir;
  const fs::path fifo = dir / "feed.npy";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string block(50000, 'k');

  pid_t writer = fifo_writer(fifo, block, 3);
  CHECK(read_file(fifo) == block + block + block);
  reap(writer);

  // A writer that never stops, like `<(cat /dev/zero)`.
  writer = fifo_writer(fifo, block, -1);
  CHECK(error_of([&] { read_file(fifo, size_t(1) << 20); }) ==
        "cannot read '" + fifo.string() +
            "': the pipe gives more than 1.0 MiB, the most kiln reads from one");
  reap(writer);
}

TEST_CASE("file_io: an IDX header's sizes are checked against the data it has",
          "[file_io][errors]") {
  test::TempDir dir;
  const std::string origin = "'" + (dir / "x.idx").string() + "'";
  // 2^40 bytes claimed, 16 present: plain and gzipped, no allocation of the
  // claim (it would fail with std::bad_alloc, not this message).
  write_file_atomically(dir / "x.idx", idx_bytes({1 << 20, 1 << 10, 1 << 10}, 16));
  CHECK(error_of([&] { read_idx(dir / "x.idx"); }) ==
        origin + ": expected 1099511627776 bytes of data, found 16");
  write_gzip(dir / "x.idx", idx_bytes({1 << 20, 1 << 10, 1 << 10}, 16));
  CHECK(error_of([&] { read_idx(dir / "x.idx"); }) ==
        origin + ": expected 1099511627776 bytes of data, found 16");

  write_gzip(dir / "x.idx", idx_bytes({4}, 10));
  CHECK(error_of([&] { read_idx(dir / "x.idx"); }) ==
        origin + ": more data than the 4 bytes its header gives");
  write_gzip(dir / "x.idx", idx_bytes({4, 2}, 7));
  CHECK(error_of([&] { read_idx(dir / "x.idx"); }) ==
        origin + ": expected 8 bytes of data, found 7");
  write_gzip(dir / "x.idx", idx_bytes({3, 1u << 31, 1u << 31, 1u << 31}, 0));
  CHECK(error_of([&] { read_idx(dir / "x.idx"); }) ==
        origin + ": shape [3, 2147483648, 2147483648, 2147483648] is too large");

  write_gzip(dir / "x.idx", idx_bytes({3}, 3));
  Tensor labels = read_idx(dir / "x.idx");
  CHECK(labels.dtype() == DType::i32);
  CHECK(labels.shape() == Shape{3});
  CHECK(labels.get(2) == 2);

  CHECK(error_of([] { read_idx("/dev/zero"); }) ==
        "cannot read '/dev/zero': it is a character device, not a regular file or a pipe");
}

TEST_CASE("file_io: a save removes the temporaries of saves killed before it", "[file_io]") {
  test::TempDir dir;
  const fs::path path = dir / "m.ckpt";
  const std::string bytes(4 << 20, 'c');
  // Each writer saves in a loop and is killed once its temporary is there:
  // mid-write, or between the write and the rename.
  constexpr int kKills = 20;
  int left_one = 0;
  for (int i = 0; i < kKills; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        for (;;) write_file_atomically(path, bytes, Durability::none);
      } catch (...) {
        ::_exit(1);
      }
    }
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (temporaries(dir.path(), "m.ckpt", pid) == 0 &&
           std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    reap(pid);
    left_one += temporaries(dir.path(), "m.ckpt", pid) > 0;
  }
  INFO(left_one << " of " << kKills << " killed writers left a temporary");
  CHECK(left_one > 0);
  // Each writer removed its predecessors' leftovers: at most the last stays.
  CHECK(temporaries(dir.path(), "m.ckpt") <= 1);

  // A live writer's temporary stays, and so does that of a writer on
  // another host (a shared file system), whose process this one cannot see.
  pid_t alive = ::fork();
  REQUIRE(alive >= 0);
  if (alive == 0) {
    ::pause();
    ::_exit(0);
  }
  pid_t gone = ::fork();
  REQUIRE(gone >= 0);
  if (gone == 0) ::_exit(0);
  reap(gone);
  std::string host(256, '\0');
  REQUIRE(::gethostname(host.data(), host.size() - 1) == 0);
  host.resize(std::min<size_t>(std::strlen(host.c_str()), 32));
  const fs::path live = dir / fmt::format("m.ckpt.tmp.{}.{}.AbCdEf", host, alive);
  write_file_atomically(live, "a live writer's");
  write_file_atomically(dir / fmt::format("m.ckpt.tmp.elsewhere.{}.AbCdEf", gone), "elsewhere");
  write_file_atomically(path, "clean");
  reap(alive);
  CHECK(read_file(path) == "clean");
  CHECK(temporaries(dir.path(), "m.ckpt") == 2);
  CHECK(fs::exists(live));
}
