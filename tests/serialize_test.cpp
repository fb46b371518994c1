// Graphs survive binary and text round trips exactly, and damaged or
// inconsistent files are rejected with a message naming the problem.
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/error.h"
#include "ir/kiln.pb.h"
#include "ir/serialize.h"
#include "ir/warning.h"
#include "passes/autodiff.h"
#include "temp_dir.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

using namespace kiln;
using Catch::Matchers::Contains;

namespace {

// One graph that uses every registered op.
Graph every_op_graph() {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 6});
  Value i = placeholder(g, "i", i32, {batch, 6});
  Value w = variable(g, "w", f32, {6, 6}, Init::he_normal().seed(3));
  Value c = constant(g, Tensor::from<float>({6}, {0.1f, -1e-30f, 3.5f, 1e30f, 0, -2}));
  Value y = matmul(x, w, {.transpose_b = true}) + c;
  y = y - x * y / (abs(y) + 1.0);
  y = maximum(y, minimum(x, pow(abs(x) + 1.0, y)));
  y = neg(square(sign(y))) + exp(clip(y, -5, 5)) + log(sqrt(abs(y) + 1.0)) * rsqrt(abs(y) + 1.0);
  y = sigmoid(y) + tanh(y) + relu(y) + leaky_relu(y, 0.3) + elu(y) + softplus(y) + gelu(y);
  Value b = logical_or(logical_and(less(y, x), greater(y, 0.5)),
                       logical_not(logical_or(equal(y, x), not_equal(x, 1.0))));
  b = logical_or(b, logical_and(less_equal(y, 2.0), greater_equal(y, -2.0)));
  y = select(b, y, cast(i, f32));
  y = softmax(y) + log_softmax(y, 0);
  Value s = sum(y, {1}, true) + mean(y) + max(y, {1}, true) + min(y);
  Value idx = argmax(y) + argmin(y, 1);
  Value r = reshape(transpose(broadcast_to(s, {batch, 6})), {6, -1});
  Value t = flatten(concat({slice(y, {0, 1}, {to_end, 4}, {1, 2}), y}, 1));
  // Gradients add slice_grad, broadcast_like and size (the mean over the batch).
  Value dx = erf(gradients(sum(t) + mean(y), {x})[0]);
  // Random numbers, indexing and padding; the gradient adds gather_grad.
  Value noise = random_uniform_like(x, 0, 1, 5, placeholder(g, "step", i64, {})) +
                random_normal(g, {batch, 6}, 0, 1, 6);
  Value rows = gather(w, argmax(noise)) + sum(one_hot(i, 6), {1});
  Value dw = gradients(sum(pad(rows, {0, 0, 1, 1})), {w})[0];
  // Every optimizer's update ops, a schedule, and the plain state ops.
  Value loss = mean(sin(y) + cos(y));
  optim::SGD{.lr = optim::cosine_decay(0.1, 100)}.minimize(loss, {w});
  optim::Momentum{.nesterov = true}.minimize(loss, {w});
  optim::RMSProp{}.minimize(loss, {w});
  optim::Adam{}.minimize(loss, {w});
  assign_sub(assign(w, w * 0.5f), 1.0f);
  // The optimizers wrote allreduce_mean; a gradient bucket, as the
  // data-parallel pass makes one.
  Value reduced = apply("allreduce_mean_finish",
                        {apply("allreduce_mean_start", {apply("gradient_bucket", {w, dw})})});
  apply("bucket_part", {reduced}, {{"offset", int64_t{1}}, {"shape", Shape{2}}});
  // Fused nodes, as the fusion pass makes them (with their bodies' parameters).
  Value f = test::fused({x, c}, [](const std::vector<Value> &p) { return relu(p[0] * p[1]); });
  test::fused(
      {w, dw}, [](const std::vector<Value> &p) { return assign_add(p[0], p[1]); }, "fused_update");
  (void)f;
  (void)r, (void)idx, (void)dx, (void)dw;
  // Convolution and pooling; their gradients add the backprop and *_grad ops.
  Value img = placeholder(g, "img", f32, {batch, 2, 6, 6});
  Value k = variable(g, "k", f32, {4, 1, 3, 3}, Init::he_normal().seed(4));
  Value fm = max_pool2d(conv2d(img, k, {.strides = {1, 2}, .padding = "same", .groups = 2}));
  Value pooled = avg_pool2d(fm, {.kernel = {2, 2}, .strides = {1, 1}, .pads = {1, 0, 0, 1}});
  Value dimg = gradients(sum(pooled), {img, k})[0];
  (void)r, (void)idx, (void)dx, (void)dimg;
  return g;
}

} // namespace

TEST_CASE("the round-trip graph uses every op", "[serialize]") {
  Graph g = every_op_graph();
  std::set<std::string> used;
  for (const Node &n : g.nodes()) {
    used.insert(n.op->name);
    if (auto body = n.attrs.find("body"); body != n.attrs.end())
      for (const Node &member : std::get<std::shared_ptr<const Graph>>(body->second)->nodes())
        used.insert(member.op->name);
  }
  for (const OpDef &op : OpRegistry::get().all()) {
    INFO(op.name);
    CHECK(used.count(op.name) == 1);
  }
}

TEST_CASE("binary and text round trips are exact", "[serialize]") {
  Graph g = every_op_graph();
  for (GraphFormat format : {GraphFormat::binary, GraphFormat::text}) {
    std::string bytes = serialize(g, format);
    Graph back = deserialize(bytes, format);
    CHECK(back == g);
    CHECK(serialize(back, format) == bytes);
  }
}

TEST_CASE("save and load pick the format from the file name", "[serialize]") {
  auto dir = std::filesystem::temp_directory_path() / "kiln_serialize_test";
  std::filesystem::create_directories(dir);
  Graph g = every_op_graph();
  for (const char *name : {"g.kiln", "g.kiln.txt"}) {
    save_graph(g, dir / name);
    CHECK(load_graph(dir / name) == g);
  }
  CHECK(read_file(dir / "g.kiln.txt").find("format_version: 2") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a failed save keeps the previous file", "[serialize]") {
  test::TempDir dir;
  Graph g = every_op_graph();
  save_graph(g, dir / "g.kiln");
  {
    test::FileSizeLimit limit(1); // the write breaks off after a byte
    CHECK_THROWS_WITH(save_graph(g, dir / "g.kiln"),
                      Contains("cannot write '" + (dir / "g.kiln").string() + "'"));
  }
  CHECK(load_graph(dir / "g.kiln") == g);
  CHECK(test::files_starting_with(dir.path(), "g.kiln.tmp") == 0);
}

TEST_CASE("a directory given as a file is named as one", "[serialize][errors]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(load_graph(dir.path()),
                    "cannot read '" + dir.path().string() + "': it is a directory");
}

TEST_CASE("a read that fails is an error, not a short file", "[serialize][errors]") {
  // Reading /proc/self/mem from offset 0 fails with EIO (the first page is
  // unmapped): a stream would have returned it as an empty file.
  CHECK_THROWS_WITH(read_file("/proc/self/mem"),
                    "cannot read '/proc/self/mem': Input/output error");
}

TEST_CASE("concurrent writers of one file each publish a whole one", "[serialize]") {
  // Each writer has a temporary of its own: a reader only ever sees one
  // writer's complete bytes, and no temporary is left behind.
  test::TempDir dir;
  const std::filesystem::path path = dir / "shared.bin";
  const std::string a(100000, 'a'), b(70000, 'b');
  write_file_atomically(path, a);
  std::atomic<bool> done = false;
  std::atomic<int> torn = 0, reads = 0;
  std::thread reader([&] {
    while (!done) {
      std::string got = read_file(path);
      torn += got != a && got != b;
      ++reads;
    }
  });
  auto writer = [&](const std::string &bytes) {
    for (int i = 0; i < 200; ++i) write_file_atomically(path, bytes);
  };
  std::thread first(writer, std::cref(a)), second(writer, std::cref(b));
  first.join();
  second.join();
  done = true;
  reader.join();
  CHECK(reads > 0);
  CHECK(torn == 0);
  CHECK(test::files_starting_with(dir.path(), "shared.bin.tmp") == 0);
}

TEST_CASE("damaged and inconsistent graphs are rejected by name", "[serialize][errors]") {
  std::string good = serialize(every_op_graph(), GraphFormat::binary);
  CHECK_THROWS_WITH(deserialize(good.substr(0, good.size() / 2), GraphFormat::binary, "m.kiln"),
                    "m.kiln: not a valid binary kiln graph (truncated or corrupt protobuf)");
  auto text = [](const std::string &nodes) {
    return deserialize("format_version: 1 " + nodes, GraphFormat::text, "m.kiln.txt");
  };
  CHECK_THROWS_WITH(text(R"(nodes { name: "a" op: "frobnicate" })"),
                    "m.kiln.txt: node 'a': unknown op 'frobnicate'");
  CHECK_THROWS_WITH(text(R"(nodes { name: "a" op: "neg" inputs: "b" })"),
                    "m.kiln.txt: node 'a' (neg): input 'b' does not exist");
  CHECK_THROWS_WITH(text(R"(nodes { name: "a" op: "neg" inputs: "b" }
                            nodes { name: "b" op: "neg" inputs: "a" })"),
                    "m.kiln.txt: node 'a' is part of a cycle: a -> b -> a");
  CHECK_THROWS_WITH(text(R"(nodes { name: "a" op: "placeholder" } nodes { name: "a" op: "neg" })"),
                    "m.kiln.txt: duplicate node name 'a'");
  CHECK_THROWS_WITH(text(R"(nodes { name: "p" op: "placeholder" })"),
                    "m.kiln.txt: node 'p' (placeholder): missing required attribute 'dtype'");
  CHECK_THROWS_WITH(
      text(R"(nodes { name: "p" op: "placeholder" attrs { key: "dtype" value { i: 3 } } })"),
      "m.kiln.txt: node 'p' (placeholder): attribute 'dtype' must be dtype, got int");
  CHECK_THROWS_WITH(
      text(R"(nodes { name: "a" op: "placeholder"
                              attrs { key: "dtype" value { dtype: DT_F32 } }
                              attrs { key: "shape" value { ints { values: 2 } } } }
                            nodes { name: "b" op: "placeholder"
                              attrs { key: "dtype" value { dtype: DT_I32 } }
                              attrs { key: "shape" value { ints { values: 2 } } } }
                            nodes { name: "c" op: "add" inputs: "a" inputs: "b" })"),
      "m.kiln.txt: node 'c' (add): input 1 has dtype i32 but input 0 has f32; cast one of them");
  CHECK_THROWS_WITH(text(R"(nodes { name: "a" op: "neg" )"),
                    Contains("not a valid text kiln graph"));
  CHECK_THROWS_WITH(deserialize("format_version: 7", GraphFormat::text, "m"),
                    "m: format version 7 is not supported (this kiln reads versions 1 to 2)");
  CHECK_THROWS_WITH(deserialize("", GraphFormat::binary, "m"),
                    "m: not a kiln graph (it has no format version)");
  CHECK_THROWS_WITH(
      text(R"(nodes { name: "v" op: "variable"
                              attrs { key: "dtype" value { dtype: DT_F32 } }
                              attrs { key: "shape" value { ints { values: 4611686018427387905 values: 4 } } } })"),
      Contains("node 'v' (variable): shape [4611686018427387905, 4] has too many elements"));
  CHECK_THROWS_WITH(text(R"(nodes { name: "c" op: "constant"
                              attrs { key: "value" value { tensor { dtype: DT_F32 shape: 3 data: "\000\000\000\000\000\000\000\000\000\000\000\000" } } } }
                            nodes { name: "b" op: "broadcast_to" inputs: "c"
                              attrs { key: "shape" value { ints { values: -5 values: 3 } } } })"),
                    Contains("node 'b' (broadcast_to): dim -5 of shape [-5, 3] must be >= 0"));
  CHECK_THROWS_WITH(text(R"(nodes { name: "c" op: "constant"
                              attrs { key: "value" value { tensor { dtype: DT_F32 shape: 3 data: "\000\000\000\000\000\000\000\000\000\000\000\000" } } } }
                            nodes { name: "b" op: "broadcast_to" inputs: "c"
                              attrs { key: "shape" value { ints { values: -1 values: 3 } } } })"),
                    Contains("the batch dim must come from the input"));
}

TEST_CASE("a deep chain listed consumer first loads without deep recursion", "[serialize]") {
  // 200k nodes: recursion per node would overflow an 8 MiB stack.
  std::string text = "format_version: 1\n";
  const int n = 200000;
  for (int i = n - 1; i > 0; --i)
    text += "nodes { name: \"n" + std::to_string(i) + "\" op: \"neg\" inputs: \"n" +
            std::to_string(i - 1) + "\" }\n";
  text += R"(nodes { name: "n0" op: "placeholder" attrs { key: "dtype" value { dtype: DT_F32 } }
                     attrs { key: "shape" value { ints { values: 1 } } } })";
  Graph g = deserialize(text, GraphFormat::text);
  CHECK(g.size() == n);
  CHECK(g.node(g.at("n5")).inputs == std::vector<NodeId>{g.at("n4")});
}

namespace {

// A GraphDef's bytes as format 1 wrote them (no checksum).
std::string serialize_binary_prefix(const proto::GraphDef &def) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  {
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    REQUIRE(def.SerializeToCodedStream(&coded));
  }
  return out;
}

std::string load_error(std::string_view bytes, GraphFormat format) {
  try {
    deserialize(bytes, format, "m.kiln");
  } catch (const Error &e) {
    return e.what();
  }
  return "(loaded without an error)";
}

// What `f` writes to stderr (fd 2, where libprotobuf logs).
template <typename F> std::string stderr_of(F f) {
  test::TempDir dir;
  int saved = ::dup(2);
  int file = ::open((dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE((saved >= 0 && file >= 0));
  ::dup2(file, 2);
  ::close(file);
  f();
  ::dup2(saved, 2);
  ::close(saved);
  return read_file(dir / "stderr");
}

} // namespace

TEST_CASE("a binary graph truncated at a node boundary is rejected", "[serialize][errors]") {
  // Format 1 had no checksum: such a file loaded with fewer nodes and ran.
  Graph g = every_op_graph();
  std::string good = serialize(g, GraphFormat::binary);
  proto::GraphDef def;
  REQUIRE(def.ParseFromString(good));
  for (int keep : {0, 1, def.nodes_size() / 2, def.nodes_size() - 1}) {
    proto::GraphDef prefix;
    prefix.set_format_version(def.format_version());
    for (int i = 0; i < keep; ++i) *prefix.add_nodes() = def.nodes(i);
    std::string cut = serialize_binary_prefix(prefix);
    INFO(keep << " nodes kept");
    REQUIRE(good.starts_with(cut));
    CHECK(load_error(cut, GraphFormat::binary) ==
          "m.kiln: truncated: the checksum that ends a format 2 graph is missing");
  }
  // And every truncation within the last bytes (the checksum itself).
  for (size_t n = good.size() - 8; n < good.size(); ++n)
    CHECK_THAT(load_error(good.substr(0, n), GraphFormat::binary), Contains("m.kiln: "));
}

TEST_CASE("a bit flipped in a binary graph is detected", "[serialize][errors]") {
  // Format 1 loaded a flipped bit in a constant's data and computed with it.
  Graph g;
  constant(g, Tensor::from<float>({4}, {1, 2, 3, 4}), "c");
  std::string good = serialize(g, GraphFormat::binary);
  float two = 2;
  size_t at = good.find(std::string(reinterpret_cast<const char *>(&two), sizeof two));
  REQUIRE(at != std::string::npos);
  std::string damaged = good;
  damaged[at + 1] ^= 0x04;
  CHECK(load_error(damaged, GraphFormat::binary) ==
        "m.kiln: damaged: the contents do not match the checksum");
  // Bytes appended after the checksum are damage too.
  CHECK(load_error(good + std::string("\x10\x02", 2), GraphFormat::binary) ==
        "m.kiln: damaged: the contents do not match the checksum");
  CHECK(deserialize(good, GraphFormat::binary) == g);
}

TEST_CASE("format 1 graphs (no checksum) still load", "[serialize]") {
  Graph g = every_op_graph();
  proto::GraphDef def;
  REQUIRE(def.ParseFromString(serialize(g, GraphFormat::binary)));
  def.set_format_version(1);
  def.clear_checksum();
  CHECK(deserialize(def.SerializeAsString(), GraphFormat::binary) == g);
  std::string text = serialize(g, GraphFormat::text);
  text.replace(text.find("format_version: 2"), 17, "format_version: 1");
  CHECK(deserialize(text, GraphFormat::text) == g);

  // Loaded from a file, a binary one warns and says how to re-save it; a
  // text one has no checksum in any version, so it does not.
  test::TempDir dir;
  const std::string old = (dir / "old.kiln").string();
  write_file_atomically(old, def.SerializeAsString());
  write_file_atomically(dir / "old.kiln.txt", text);
  std::vector<std::string> warnings;
  WarningHandler saved = set_warning_handler([&](const std::string &w) { warnings.push_back(w); });
  CHECK(load_graph(old) == g);
  CHECK(load_graph(dir / "old.kiln.txt") == g);
  save_graph(load_graph(old), old); // what the warning says to do
  CHECK(load_graph(old) == g);
  set_warning_handler(saved);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] == old +
                           ": a format 1 graph carries no checksum, so damage to it goes "
                           "unnoticed; re-save it with 'kiln dump -f proto -o " +
                           old + " " + old + "'");
}

namespace {

// A text graph whose one node nests fused bodies `levels` deep (each level
// is 4 protobuf messages: GraphDef, NodeDef, the map entry, AttrValue).
std::string nested_text_graph(int levels) {
  std::string open, close;
  for (int i = 0; i < levels; ++i) {
    open += "nodes { name: \"f\" op: \"fusion\" attrs { key: \"body\" value { graph { ";
    close += "} } } } ";
  }
  return "format_version: 2 " + open + close;
}

} // namespace

TEST_CASE("text graphs are checked before they are built", "[serialize][errors]") {
  // ~1,800 message levels overflowed the stack inside protobuf's text parser.
  CHECK(load_error(nested_text_graph(450), GraphFormat::text) ==
        "m.kiln: not a valid text kiln graph: line 1, column 1700: Message is too deep, the "
        "parser exceeded the configured recursion limit of 100.");
  // A node name that is not UTF-8 was accepted, then saved as a binary file
  // that could not be read back.
  CHECK(load_error(R"(format_version: 2 nodes { name: "a\377" op: "placeholder" })",
                   GraphFormat::text) == "m.kiln: node 'a\\xff': the name is not valid UTF-8");
  Graph g;
  CHECK_THROWS_WITH(placeholder(g, "caf\xc3", f32, {2}),
                    "node 'caf\\xc3': the name is not valid UTF-8");
  CHECK_NOTHROW(placeholder(g, "caf\xc3\xa9", f32, {2})); // UTF-8 "café"
  CHECK(deserialize(serialize(g, GraphFormat::binary), GraphFormat::binary) == g);
  CHECK(load_error(std::string(kMaxTextGraphBytes + 1, ' '), GraphFormat::text) ==
        fmt::format("m.kiln: {} bytes is too large for a text graph (the limit is 256 MiB; save it "
                    "in binary form)",
                    kMaxTextGraphBytes + 1));
}

TEST_CASE("libprotobuf logs nothing on stderr for bad files", "[serialize][errors]") {
  // An attribute key that is not UTF-8 (a protobuf string) in a binary file:
  // protobuf used to log "String field ... contains invalid UTF-8 data".
  proto::GraphDef def;
  def.set_format_version(1);
  proto::NodeDef *n = def.add_nodes();
  n->set_name("a");
  n->set_op("placeholder");
  (*n->mutable_attrs())["\xff"].set_i(1);
  std::string bytes;
  {
    google::protobuf::LogSilencer quiet; // protobuf warns while writing it, too
    bytes = def.SerializeAsString();
  }
  std::string logged = stderr_of([&] {
    CHECK(load_error(bytes, GraphFormat::binary) ==
          "m.kiln: not a valid binary kiln graph (truncated or corrupt protobuf)");
    CHECK_THAT(load_error("format_version: 2 nodes { name: ", GraphFormat::text),
               Contains("not a valid text kiln graph"));
  });
  CHECK(logged == "");
}

TEST_CASE("a failed rename removes the temporary", "[serialize]") {
  // A directory in the way: the write succeeds, the rename over it fails.
  test::TempDir dir;
  std::filesystem::create_directories(dir / "g.kiln" / "inside");
  CHECK_THROWS_WITH(save_graph(every_op_graph(), dir / "g.kiln"),
                    Contains("cannot replace '" + (dir / "g.kiln").string() + "'"));
  CHECK(test::files_starting_with(dir.path(), "g.kiln.tmp") == 0);
}
