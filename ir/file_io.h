// Whole files read and replaced atomically: what graphs, checkpoints, feeds,
// the compiled-code cache and ahead-of-time outputs are read and written with.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace kiln {

// Replaces `path` with `bytes` through a temporary file of its own (unique,
// beside it) and a rename: a reader sees the old file or the new one, whole;
// of concurrent writers, the last rename wins; on failure the old file stays
// and the temporary is removed. `synced` also fsyncs the file before the
// rename and the directory after it, so the new file survives a crash.
//
// A writer killed mid-save leaves its temporary behind; the next save of the
// same path removes those whose writer is gone. The temporary's name says
// who wrote it, "NAME.tmp.HOST.PID.XXXXXX", so a live writer's is never
// touched (writers in another PID namespace with the same host name and the
// same path are not told apart).
enum class Durability { synced, none };
void write_file_atomically(const std::filesystem::path &path, std::string_view bytes,
                           Durability durability = Durability::synced);

// A pipe (`<(zcat m.kiln.gz)`, a FIFO) has no size to check before reading:
// read_file takes at most this much from one, protobuf's 2 GiB message limit.
inline constexpr size_t kMaxPipeBytes = size_t(2) << 30;

// The bytes of a regular file or a pipe. Anything else is refused before a
// byte is read, naming the file and what it is: a directory, a device
// (/dev/zero never ends), a socket.
std::string read_file(const std::filesystem::path &path, size_t max_pipe_bytes = kMaxPipeBytes);

// `path` open for reading, with read_file's checks, for readers that stream
// it (zlib). Closes the descriptor unless released.
class InputFile {
public:
  explicit InputFile(const std::filesystem::path &path);
  ~InputFile();
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;

  int fd() const { return fd_; }
  bool is_pipe() const { return pipe_; }
  size_t size() const { return size_; } // a regular file's, when opened; 0 for a pipe
  int release() { return std::exchange(fd_, -1); }

private:
  int fd_ = -1;
  bool pipe_ = false;
  size_t size_ = 0;
};

} // namespace kiln
