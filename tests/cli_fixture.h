// The `kiln` command line run as a separate process, the way a user runs it,
// in a temporary directory holding a small MLP saved in both formats and a
// feed for it (the CLI tests).
#pragma once

#include "data/npy.h"
#include "frontends/nn.h"
#include "ir/serialize.h"
#include "ops/builder.h"
#include "temp_dir.h"
#include "test_util.h"

#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace kiln::test {

struct Result {
  int status = -1; // the exit status; -1 if kiln did not exit normally
  std::string out, err;
};

inline std::string shell_quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\'"; // close the quote, an escaped quote, reopen
    out += c;
  }
  out += '\'';
  return out;
}

// A temporary directory holding an MLP saved in both formats, a matching
// feed, and whatever a test adds.
class CliFixture {
public:
  CliFixture() {
    Value x = placeholder(graph, "x", f32, {batch, 4});
    Value h = nn::dense(graph, x, 8, nn::relu);
    nn::dense(graph, h, 3);
    save_graph(graph, path("mlp.kiln"));
    save_graph(graph, path("mlp.kiln.txt"));
    std::mt19937 rng(1);
    feed = test::random_tensor(f32, {5, 4}, rng);
    write_npy(path("x.npy"), feed);
  }
  std::string path(const std::string &name) const { return (dir_ / name).string(); }

  void write(const std::string &name, std::string_view bytes) const {
    write_file_atomically(path(name), bytes);
  }

  // Runs `kiln ARGS` with stdout and stderr captured apart, in the
  // environment plus `env` (NAME=VALUE each). In `args` and `env`, "@name"
  // stands for the path of `name` in the directory ("x=@x.npy" too).
  Result kiln(const std::vector<std::string> &args,
              const std::vector<std::string> &env = {}) const {
    auto expand = [&](const std::string &a) {
      size_t at = a.find('@');
      return at == std::string::npos ? a : a.substr(0, at) + path(a.substr(at + 1));
    };
    std::string command;
    for (const std::string &e : env) {
      size_t eq = e.find('=');
      command += e.substr(0, eq + 1) + shell_quote(expand(e.substr(eq + 1))) + ' ';
    }
    command += shell_quote(KILN_CLI);
    for (const std::string &a : args) command += ' ' + shell_quote(expand(a));
    command += fmt::format(" >{} 2>{}", shell_quote(path("stdout")), shell_quote(path("stderr")));
    int raw = std::system(command.c_str());
    Result r;
    // The shell reports a child killed by a signal as 128 + the signal.
    if (WIFEXITED(raw) && WEXITSTATUS(raw) < 128) r.status = WEXITSTATUS(raw);
    r.out = read_file(path("stdout"));
    r.err = read_file(path("stderr"));
    return r;
  }

  Graph graph;
  Tensor feed;

private:
  test::TempDir dir_;
};

} // namespace kiln::test
