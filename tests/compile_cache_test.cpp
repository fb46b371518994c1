// Kernel deduplication and the disk cache of compiled code: equal layers are
// compiled once and compute what separately compiled ones do; a second
// session loads every unit from the cache; corrupt, truncated, foreign and
// wrong-format entries are rejected and recompiled; two processes filling one
// empty cache at once both succeed and agree.
#include "compiler/code_cache.h"
#include "data/npy.h"
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/serialize.h"
#include "session/session.h"
#include "temp_dir.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// Four equal dense layers and a loss: forward, backward and Adam updates of
// equal shapes throughout.
struct Tower {
  Graph g;
  Value x, y, logits, loss, train;
};

std::unique_ptr<Tower> make_tower() {
  auto t = std::make_unique<Tower>();
  t->x = placeholder(t->g, "x", f32, {batch, 32});
  t->y = placeholder(t->g, "y", i32, {batch});
  Value h = t->x;
  for (int i = 0; i < 4; ++i) h = nn::dense(t->g, h, 32, nn::relu, {.seed = i + 1});
  t->logits = h;
  t->loss = mean(nn::softmax_cross_entropy(h, t->y));
  t->train = optim::Adam{.lr = 1e-2}.minimize(t->loss);
  return t;
}

Feeds feeds(const Tower &t) {
  std::mt19937 rng(3);
  Tensor labels(i32, {16});
  for (int64_t i = 0; i < 16; ++i) labels.data<int32_t>()[i] = int32_t(i % 32);
  return {{t.x, test::random_tensor(f32, {16, 32}, rng, -1, 1)}, {t.y, labels}};
}

// Three training steps, then the logits.
std::vector<Tensor> train_three_steps(const Tower &t, Session &s) {
  std::vector<Tensor> losses;
  for (int i = 0; i < 3; ++i) losses.push_back(s.run(feeds(t), {t.loss}, {t.train})[0]);
  losses.push_back(s.run(feeds(t), {t.logits})[0]);
  return losses;
}

void check_identical(const std::vector<Tensor> &a, const std::vector<Tensor> &b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].identical(b[i]));
}

// The cache on for the test's sessions and child processes, whatever the
// caller's KILN_CACHE says.
class CacheOn {
public:
  CacheOn() {
    if (const char *s = std::getenv("KILN_CACHE")) saved_ = s;
    unsetenv("KILN_CACHE");
  }
  ~CacheOn() {
    if (saved_) setenv("KILN_CACHE", saved_->c_str(), 1);
  }

private:
  std::optional<std::string> saved_;
};

SessionOptions cached_in(const fs::path &dir) {
  return {.threads = 2, .compile = {.cache = true, .cache_dir = dir.string()}};
}

std::vector<fs::path> entries(const fs::path &dir) {
  std::vector<fs::path> found;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().extension() == ".kobj") found.push_back(e.path());
  std::sort(found.begin(), found.end());
  return found;
}

// An entry's key, from its file name (CacheKey::hex).
compiler::CacheKey key_of(const fs::path &entry) {
  std::string hex = entry.stem().string();
  return {std::stoull(hex.substr(16), nullptr, 16), std::stoull(hex.substr(0, 16), nullptr, 16)};
}

void edit_file(const fs::path &p, const std::function<void(std::string &)> &edit) {
  std::string bytes = read_file(p);
  edit(bytes);
  write_file_atomically(p, bytes);
}

} // namespace

TEST_CASE("equal layers compile once and match a compilation without deduplication", "[compile]") {
  auto t = make_tower();
  Session deduplicated(t->g, {.threads = 2, .compile = {.cache = false}});
  Session separate(t->g, {.threads = 2, .compile = {.cache = false, .deduplicate = false}});
  std::vector<Tensor> a = train_three_steps(*t, deduplicated);
  std::vector<Tensor> b = train_three_steps(*t, separate);
  check_identical(a, b);

  // The training step: the three inner layers' forward kernels, gradients and
  // updates are each one unit; the first layer's differ (its input is a feed).
  deduplicated.run(feeds(*t), {t->loss}, {t->train});
  Session fresh(t->g, {.threads = 2, .compile = {.cache = false}});
  fresh.run(feeds(*t), {t->loss}, {t->train});
  const compiler::CompileStats &train = fresh.stats().last_compile;
  INFO("units " << train.units << ", unique " << train.unique_units);
  CHECK(train.units > train.unique_units);
  CHECK(train.compiled_units == train.unique_units);
  // Each hidden layer has the same kernels, so adding layers adds no unit,
  // nor IR to emit (its nodes lower alike: compiler/codegen.cpp).
  CHECK(train.unique_units + 12 <= train.units);
  CHECK(train.emitted_units + 12 <= train.units);

  // The forward program after the training step: all its units exist already.
  fresh.run(feeds(*t), {t->logits});
  const compiler::CompileStats &forward = fresh.stats().last_compile;
  CHECK(forward.unique_units == 1); // dense + bias + relu, four times
  CHECK(forward.reused_units == forward.unique_units);
  CHECK(forward.compiled_units == 0);

  const compiler::CompileStats &undeduplicated = separate.stats().last_compile;
  CHECK(undeduplicated.compiled_units == undeduplicated.units);
}

TEST_CASE("nodes that lower alike are emitted once and run as with code of their own",
          "[compile]") {
  // 300 unfused nodes of four kinds: add(x, x), then add(previous, x), relu
  // and softmax over and over.
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 8});
  Value y = x;
  for (int i = 0; i < 100; ++i) y = softmax(relu(y + x));
  SessionOptions shared{.passes = {.fusion = false}, .compile = {.cache = false}};
  SessionOptions own = shared;
  own.compile.deduplicate = false;
  Session a(g, shared), b(g, own);
  std::mt19937 rng(3);
  Feeds feeds = {{x, test::random_tensor(f32, {4, 8}, rng)}};
  CHECK(test::compare(a.run(feeds, {y})[0], b.run(feeds, {y})[0], 0) == "");
  const compiler::CompileStats &alike = a.stats().last_compile, &apart = b.stats().last_compile;
  CHECK(alike.units == 300);
  CHECK(alike.emitted_units == 4);
  CHECK(alike.unique_units == 4);
  CHECK(apart.emitted_units == 300);
  CHECK(apart.compiled_units == 300);
}

TEST_CASE("a second session loads every unit from the disk cache", "[compile][cache]") {
  CacheOn on;
  test::TempDir dir;
  auto t = make_tower();
  Session first(t->g, cached_in(dir.path()));
  std::vector<Tensor> a = train_three_steps(*t, first);
  CHECK(first.stats().last_compile.cached_units == 0);
  size_t stored = entries(dir.path()).size();
  CHECK(stored > 0);

  Session second(t->g, cached_in(dir.path()));
  std::vector<Tensor> b = train_three_steps(*t, second);
  check_identical(a, b);
  // Its first program, the training step, came from disk.
  Session third(t->g, cached_in(dir.path()));
  third.run(feeds(*t), {t->loss}, {t->train});
  const compiler::CompileStats &warm = third.stats().last_compile;
  CHECK(warm.cached_units == warm.unique_units);
  CHECK(warm.compiled_units == 0);
  CHECK(warm.rejected_cache_entries == 0);
  CHECK(entries(dir.path()).size() == stored);
}

TEST_CASE("corrupt, truncated, foreign and wrong-format cache entries are recompiled",
          "[compile][cache]") {
  CacheOn on;
  test::TempDir dir;
  auto t = make_tower();
  Tensor want;
  {
    Session s(t->g, cached_in(dir.path()));
    want = s.run(feeds(*t), {t->loss}, {t->train})[0];
  }
  std::vector<fs::path> files = entries(dir.path());
  REQUIRE(files.size() >= 5);
  edit_file(files[0], [](std::string &b) { b[b.size() / 2] ^= 0x20; });    // a flipped bit
  edit_file(files[1], [](std::string &b) { b.resize(b.size() / 2); });     // truncated
  edit_file(files[2], [](std::string &b) { b[8] = 7; });                   // another format
  fs::copy_file(files[4], files[3], fs::copy_options::overwrite_existing); // another key's

  Session damaged(t->g, cached_in(dir.path()));
  CHECK(damaged.run(feeds(*t), {t->loss}, {t->train})[0].identical(want));
  CHECK(damaged.stats().last_compile.rejected_cache_entries == 4);
  CHECK(damaged.stats().last_compile.compiled_units == 4);

  // Replaced by good entries.
  Session repaired(t->g, cached_in(dir.path()));
  CHECK(repaired.run(feeds(*t), {t->loss}, {t->train})[0].identical(want));
  CHECK(repaired.stats().last_compile.rejected_cache_entries == 0);
  CHECK(repaired.stats().last_compile.compiled_units == 0);
  CHECK(entries(dir.path()).size() == files.size());
}

TEST_CASE("two processes filling one empty cache at once both succeed and agree",
          "[compile][cache]") {
  CacheOn on;
  test::TempDir dir;
  auto t = make_tower();
  save_graph(t->g, dir / "tower.kiln");
  std::mt19937 rng(5);
  write_npy(dir / "x.npy", test::random_tensor(f32, {8, 32}, rng, -1, 1));
  std::string run = fmt::format("XDG_CACHE_HOME='{0}/cache' '{1}' run '{0}/tower.kiln' --feed "
                                "x='{0}/x.npy' --fetch {2} --out '{0}'/",
                                dir.path().string(), KILN_CLI, t->logits.name());
  std::string both =
      fmt::format("{0}a >/dev/null & a=$!; {0}b >/dev/null & b=$!; wait $a && wait $b", run);
  int status = std::system(both.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::string fetched = t->logits.name();
  std::replace(fetched.begin(), fetched.end(), '/', '_');
  Tensor a = read_npy(dir.path() / "a" / (fetched + ".npy"));
  Tensor b = read_npy(dir.path() / "b" / (fetched + ".npy"));
  CHECK(a.identical(b));
  CHECK(!entries(dir.path() / "cache" / "kiln").empty());
  for (const fs::path &p : entries(dir.path() / "cache" / "kiln")) {
    std::string object;
    CHECK(compiler::CodeCache(p.parent_path()).load(key_of(p), object) ==
          compiler::CodeCache::Lookup::hit);
  }
}

TEST_CASE("elementwise code inlines the scalar math instead of calling it", "[compile]") {
  CacheOn on;
  // A call per element would also compute the right values, 10x slower.
  test::TempDir dir;
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 256});
  Value y = exp(x) + tanh(x);
  Session s(g, cached_in(dir.path()));
  std::mt19937 rng(1);
  s.run({{x, test::random_tensor(f32, {4, 256}, rng)}}, {y});
  std::vector<fs::path> files = entries(dir.path());
  REQUIRE(files.size() == 1);
  std::string object;
  REQUIRE(compiler::CodeCache(dir.path()).load(key_of(files[0]), object) ==
          compiler::CodeCache::Lookup::hit);
  write_file_atomically(dir / "unit.o", object);
  std::string command = fmt::format("'{}' -u '{}' > '{}'", KILN_LLVM_NM, (dir / "unit.o").string(),
                                    (dir / "undefined.txt").string());
  REQUIRE(std::system(command.c_str()) == 0);
  std::string undefined = read_file(dir / "undefined.txt");
  CHECK(undefined.find("kiln_exp_f32") == std::string::npos);
  CHECK(undefined.find("kiln_tanh_f32") == std::string::npos);
}

TEST_CASE("the disk cache drops its least recently used entries past its size limit",
          "[compile][cache]") {
  test::TempDir dir;
  compiler::CodeCache cache(dir.path());
  std::string object(1000, 'x'), loaded;
  auto now = fs::file_time_type::clock::now();
  for (uint64_t i = 0; i < 8; ++i) {
    cache.store({i, 0}, object);
    fs::last_write_time(cache.entry_path({i, 0}), now - std::chrono::minutes(10 - i));
  }
  uintmax_t entry = fs::file_size(cache.entry_path({0, 0}));
  CHECK(cache.trim(8 * entry) == 0); // within the limit
  // A hit makes the oldest entry the most recently used.
  REQUIRE(cache.load({0, 0}, loaded) == compiler::CodeCache::Lookup::hit);
  // Over the limit: down to 3/4 of it, oldest first (entries 1 to 4).
  CHECK(cache.trim(6 * entry) == 4);
  for (uint64_t i : {1, 2, 3, 4})
    CHECK(cache.load({i, 0}, loaded) == compiler::CodeCache::Lookup::miss);
  for (uint64_t i : {0, 5, 6, 7})
    CHECK(cache.load({i, 0}, loaded) == compiler::CodeCache::Lookup::hit);
}
