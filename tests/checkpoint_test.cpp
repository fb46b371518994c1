// Checkpoints: bit-identical round trips of every dtype, deterministic
// bytes, atomic saves, and restores that check the whole file against the
// graph first, list every mismatch in one error and change nothing on failure.
#include "session/checkpoint.h"

#include "frontends/nn.h"
#include "ir/error.h"
#include "ir/kiln.pb.h"
#include "ir/serialize.h"
#include "temp_dir.h"
#include "test_util.h"

#include "runtime/checkpoint_file.h"

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <functional>
#include <random>
#include <set>

using namespace kiln;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// Variables of every dtype, a scalar and an empty one, plus an MLP layer.
Graph every_dtype_graph() {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 6});
  nn::dense(g, x, 5, nn::relu);
  variable(g, "f64", f64, {3, 2});
  variable(g, "i32", i32, {4});
  variable(g, "i64", i64, {});
  variable(g, "flags", boolean, {7});
  variable(g, "empty", f32, {0, 3});
  return g;
}

std::vector<NodeId> variable_ids(const Graph &g) {
  std::vector<NodeId> ids;
  for (const Node &n : g.nodes())
    if (n.op->source == Source::variable) ids.push_back(n.id);
  return ids;
}

void randomize(Session &s, uint32_t seed) {
  std::mt19937 rng(seed);
  for (NodeId id : variable_ids(s.graph())) {
    const Node &n = s.graph().node(id);
    s.set_variable(id, test::random_tensor(n.type.dtype, n.type.shape, rng));
  }
}

std::vector<Tensor> snapshot(const Session &s) {
  std::vector<Tensor> values;
  for (NodeId id : variable_ids(s.graph())) values.push_back(s.variable(id));
  return values;
}

bool unchanged(const Session &s, const std::vector<Tensor> &before) {
  std::vector<Tensor> now = snapshot(s);
  for (size_t i = 0; i < now.size(); ++i)
    if (!now[i].identical(before[i])) return false;
  return true;
}

std::string restore_error(Session &s, const fs::path &path) {
  try {
    restore_checkpoint(s, path);
  } catch (const Error &e) {
    return e.what();
  }
  return "(restored without an error)";
}

} // namespace

TEST_CASE("checkpoint: round trips every dtype bit for bit", "[checkpoint]") {
  test::TempDir dir;
  Session a(every_dtype_graph());
  randomize(a, 1);
  save_checkpoint(a, dir / "a.ckpt");

  Session b(every_dtype_graph());
  restore_checkpoint(b, dir / "a.ckpt");
  std::vector<Tensor> want = snapshot(a), got = snapshot(b);
  REQUIRE(got.size() == 7);
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].identical(want[i]));

  // Equal values give equal bytes, and nothing is left beside the file.
  save_checkpoint(b, dir / "b.ckpt");
  CHECK(read_file(dir / "a.ckpt") == read_file(dir / "b.ckpt"));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}

TEST_CASE("checkpoint: saving over a checkpoint replaces it", "[checkpoint]") {
  test::TempDir dir;
  Session s(every_dtype_graph());
  randomize(s, 2);
  save_checkpoint(s, dir / "m.ckpt");
  randomize(s, 3);
  std::vector<Tensor> latest = snapshot(s);
  save_checkpoint(s, dir / "m.ckpt");

  Session fresh(every_dtype_graph());
  restore_checkpoint(fresh, dir / "m.ckpt");
  CHECK(unchanged(fresh, latest));
  CHECK(test::files_starting_with(dir.path(), "m.ckpt.tmp") == 0);
}

TEST_CASE("checkpoint: a failed save leaves the previous file intact", "[checkpoint]") {
  test::TempDir dir;
  Session s(every_dtype_graph());
  save_checkpoint(s, dir / "m.ckpt");
  std::string before = read_file(dir / "m.ckpt");
  randomize(s, 4);

  fs::path nowhere = dir / "missing" / "m.ckpt";
  CHECK_THROWS_WITH(save_checkpoint(s, nowhere),
                    Contains("checkpoint '" + nowhere.string() + "': cannot write") &&
                        Contains("No such file or directory"));
  CHECK_FALSE(fs::exists(dir / "missing"));

  // The write breaks off half way: it fails before the rename, so the old
  // checkpoint survives and no temporary is left.
  {
    test::FileSizeLimit limit(before.size() / 2);
    CHECK_THROWS_WITH(save_checkpoint(s, dir / "m.ckpt"), Contains("cannot write"));
  }
  CHECK(read_file(dir / "m.ckpt") == before);
  CHECK(test::files_starting_with(dir.path(), "m.ckpt.tmp") == 0);
}

TEST_CASE("checkpoint: a mismatched graph gets every problem in one error", "[checkpoint]") {
  test::TempDir dir;
  Graph saved;
  variable(saved, "dense/W", f32, {784, 512});
  variable(saved, "dense/b", f32, {10});
  variable(saved, "old", f32, {2});
  variable(saved, "x", f32, {2});
  variable(saved, "same", i64, {3});
  Session a(std::move(saved));
  fs::path path = dir / "x.ckpt";
  save_checkpoint(a, path);

  Graph g;
  variable(g, "dense/W", f32, {784, 10});
  variable(g, "dense/b", f64, {10});
  variable(g, "same", i64, {3});
  variable(g, "new", f32, {1});
  placeholder(g, "x", f32, {2});
  Session b(std::move(g));
  randomize(b, 5);
  std::vector<Tensor> before = snapshot(b);

  std::string p = "checkpoint '" + path.string() + "': ";
  CHECK(restore_error(b, path) ==
        p + "variable 'dense/W' has shape [784, 512] in the file, the graph expects [784, 10]\n" +
            p + "variable 'dense/b' has dtype f32 in the file, the graph expects f64\n" + p +
            "variable 'new' is missing from the file\n" + p +
            "variable 'old' in the file is not in the graph\n" + p +
            "variable 'x' in the file: node 'x' (placeholder) in the graph is not a variable");
  // 'same' matched, yet it is not restored either.
  CHECK(unchanged(b, before));
}

TEST_CASE("checkpoint: damaged files are rejected and change nothing", "[checkpoint]") {
  test::TempDir dir;
  Session s(every_dtype_graph());
  randomize(s, 6);
  save_checkpoint(s, dir / "good.ckpt");
  std::string good = read_file(dir / "good.ckpt");
  randomize(s, 7);
  std::vector<Tensor> before = snapshot(s);
  fs::path path = dir / "bad.ckpt";

  SECTION("every truncation") {
    for (size_t n = 0; n < good.size(); ++n) {
      write_file_atomically(path, good.substr(0, n));
      INFO("truncated to " << n << " of " << good.size() << " bytes");
      CHECK_THAT(restore_error(s, path), Contains("checkpoint '" + path.string() + "': "));
    }
  }
  SECTION("random bytes") {
    std::mt19937 rng(8);
    for (size_t size : {1, 2, 7, 100, 4096}) {
      std::string noise(size, '\0');
      for (char &c : noise) c = char(rng());
      write_file_atomically(path, noise);
      INFO(size << " random bytes");
      CHECK_THAT(restore_error(s, path), Contains("checkpoint '" + path.string() + "': "));
    }
  }
  SECTION("a flipped bit in the data") {
    proto::Checkpoint c;
    REQUIRE(c.ParseFromString(good));
    size_t at = good.find(c.variables(0).tensor().data());
    REQUIRE(at != std::string::npos);
    std::string damaged = good;
    damaged[at + 7] ^= 0x10;
    write_file_atomically(path, damaged);
    CHECK(restore_error(s, path) == "checkpoint '" + path.string() +
                                        "': variable 'dense/W': data does not match its checksum "
                                        "(the file is damaged)");
  }
  SECTION("a tensor whose bytes do not fill its shape") {
    proto::Checkpoint c;
    REQUIRE(c.ParseFromString(good));
    proto::NamedTensor &w = *c.mutable_variables(0);
    REQUIRE(w.name() == "dense/W");
    w.mutable_tensor()->mutable_data()->resize(4 * 29);
    w.set_crc32(uint32_t(crc32_z(0, reinterpret_cast<const Bytef *>(w.tensor().data().data()),
                                 w.tensor().data().size())));
    write_file_atomically(path, c.SerializeAsString());
    CHECK(restore_error(s, path) == "checkpoint '" + path.string() +
                                        "': variable 'dense/W': tensor f32[6, 5] needs 120 "
                                        "bytes of data, got 116");
  }
  SECTION("a graph file") {
    save_graph(s.graph(), path);
    CHECK(restore_error(s, path) ==
          "checkpoint '" + path.string() + "': not a kiln checkpoint, or truncated or corrupt");
  }
  SECTION("a newer format") {
    proto::Checkpoint c;
    c.set_format_version(3);
    write_file_atomically(path, c.SerializeAsString());
    CHECK_THAT(restore_error(s, path), Contains("format version 3 is not supported"));
  }
  SECTION("no file") { CHECK_THAT(restore_error(s, dir / "none.ckpt"), Contains("cannot open")); }
  CHECK(unchanged(s, before));
}

namespace {

// Two variables of one dtype and shape, and a checkpoint of them as
// version `version` would have written it (crc32 over the data alone in 1).
Graph two_of_a_kind() {
  Graph g;
  variable(g, "a", f32, {2, 3}, Init::uniform(1));
  variable(g, "b", f32, {2, 3}, Init::uniform(1));
  return g;
}

} // namespace

TEST_CASE("checkpoint: swapped names of two same-shape entries are caught", "[checkpoint]") {
  test::TempDir dir;
  Session s(two_of_a_kind());
  save_checkpoint(s, dir / "m.ckpt");
  proto::Checkpoint c;
  REQUIRE(c.ParseFromString(read_file(dir / "m.ckpt")));
  REQUIRE(c.variables_size() == 2);
  c.mutable_variables(0)->set_name("b");
  c.mutable_variables(1)->set_name("a");
  write_file_atomically(dir / "m.ckpt", c.SerializeAsString());
  std::vector<Tensor> before = snapshot(s);
  CHECK_THROWS_WITH(restore_checkpoint(s, dir / "m.ckpt"),
                    Contains("variable 'a': data does not match its checksum") &&
                        Contains("variable 'b': data does not match its checksum"));
  CHECK(unchanged(s, before));
}

TEST_CASE("checkpoint: version 1 files (data-only checksums) still restore", "[checkpoint]") {
  test::TempDir dir;
  Session s(two_of_a_kind());
  save_checkpoint(s, dir / "m.ckpt");
  proto::Checkpoint c;
  REQUIRE(c.ParseFromString(read_file(dir / "m.ckpt")));
  c.set_format_version(1);
  for (proto::NamedTensor &v : *c.mutable_variables())
    v.set_crc32(uint32_t(crc32_z(0, reinterpret_cast<const Bytef *>(v.tensor().data().data()),
                                 v.tensor().data().size())));
  write_file_atomically(dir / "v1.ckpt", c.SerializeAsString());
  std::vector<Tensor> saved = snapshot(s);
  Session fresh(two_of_a_kind());
  fresh.set_variable("a", Tensor(f32, {2, 3}));
  restore_checkpoint(fresh, dir / "v1.ckpt");
  CHECK(unchanged(fresh, saved));
}

namespace {

// Every element of every variable equal to `value`: one writer's checkpoint.
std::function<Tensor(NodeId)> filled_with(const Graph &g, int value) {
  return [&g, value](NodeId id) {
    Tensor t(g.node(id).type.dtype, g.node(id).type.shape);
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, value);
    return t;
  };
}

// The writer whose checkpoint `values` is, or -1 if they mix writers.
int writer_of(const std::vector<std::pair<NodeId, Tensor>> &values) {
  int writer = -1;
  for (const auto &[id, t] : values)
    for (int64_t i = 0; i < t.size(); ++i) {
      if (writer == -1) writer = int(t.get(i));
      if (t.get(i) != writer) return -1;
    }
  return writer;
}

} // namespace

TEST_CASE("checkpoint: concurrent writer processes, a reader sees whole checkpoints",
          "[checkpoint][concurrency]") {
  // With a fixed PATH.tmp, one writer truncated or renamed away another's
  // temporary and published an unloadable file. Here each process saves its
  // own values again and again while this one reads: every read must be
  // one writer's complete checkpoint.
  constexpr int kWriters = 4, kSaves = 25;
  Graph g;
  variable(g, "w", f32, {128, 256});
  variable(g, "steps", i64, {1000});
  test::TempDir dir;
  const fs::path path = dir / "m.ckpt";
  write_checkpoint(g, filled_with(g, 0), path);

  std::vector<pid_t> writers;
  for (int w = 1; w <= kWriters; ++w) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int status = 0;
      try {
        for (int i = 0; i < kSaves; ++i) write_checkpoint(g, filled_with(g, w), path);
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    writers.push_back(pid);
  }
  int reads = 0, incomplete = 0, running = kWriters;
  std::set<int> seen;
  while (running > 0) {
    try {
      int writer = writer_of(read_checkpoint(g, path));
      incomplete += writer < 0;
      seen.insert(writer);
    } catch (const Error &e) {
      UNSCOPED_INFO(e.what());
      ++incomplete;
    }
    ++reads;
    for (pid_t &pid : writers) {
      int status = 0;
      if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0)); // every save succeeded
        pid = 0;
        --running;
      }
    }
  }
  CHECK(reads > 0);
  CHECK(incomplete == 0);
  CHECK(writer_of(read_checkpoint(g, path)) > 0); // the last rename won, whole
  CHECK(test::files_starting_with(dir.path(), "m.ckpt.tmp") == 0);
  WARN(kWriters << " writer processes x " << kSaves << " saves: " << reads << " reads, "
                << incomplete << " incomplete, " << seen.size() << " distinct checkpoints seen");
}
