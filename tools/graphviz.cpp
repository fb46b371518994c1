#include "tools/graphviz.h"

#include "ir/error.h"
#include "ir/serialize.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

extern char **environ;

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

// A private temporary directory, removed with everything in it. Files rather
// than pipes: `dot` reads all its input before writing, so two pipes would
// need a writer thread to avoid a deadlock on large graphs.
class TempDir {
public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kiln-dot-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      fail("cannot create a temporary directory: {}", std::strerror(errno));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const fs::path &path() const { return path_; }

private:
  fs::path path_;
};

// Runs `dot` with `args` and waits for it; its own messages go to our stderr.
void run_dot(std::vector<std::string> args) {
  args.insert(args.begin(), "dot");
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
  if (rc == ENOENT)
    fail(
        "cannot render SVG: Graphviz 'dot' is not on PATH (install graphviz, or use --format dot)");
  if (rc != 0) fail("cannot run Graphviz 'dot': {}", std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail("cannot wait for Graphviz 'dot': {}", std::strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("Graphviz 'dot' failed (status {})", status);
}

} // namespace

std::string render_svg(const std::string &dot) {
  TempDir dir;
  fs::path in = dir.path() / "graph.dot", out = dir.path() / "graph.svg";
  write_file_atomically(in, dot);
  run_dot({"-Tsvg", "-o", out.string(), in.string()});
  return read_file(out);
}

} // namespace kiln::tools
