// Fuzz targets for the file readers: graphs (binary, text and the listing
// form), checkpoints, .npy, CSV and IDX. What parses must also round-trip.
#include "targets.h"

#include "data/csv.h"
#include "data/idx.h"
#include "data/npy.h"
#include "ir/error.h"
#include "ir/listing.h"
#include "ir/listing_parser.h"
#include "ir/serialize.h"
#include "runtime/checkpoint_file.h"

#include <cstdio>
#include <cstdlib>

namespace kiln::fuzz {

namespace {

// A property that failed: abort, so that libFuzzer keeps the input.
void require(bool ok, const char *what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property failed: %s\n", what);
  std::abort();
}

// Its listing parses, and prints again as the same text (a graph equal but
// for NaN payloads, which the listing writes as "nan").
void require_listing_reads_back(const Graph &g) {
  std::string text = to_listing(g);
  require(to_listing(parse_listing(text)) == text, "a graph's listing reads back");
}

void graph(std::string_view bytes, GraphFormat format) {
  Graph g;
  try {
    g = deserialize(bytes, format, "fuzz");
  } catch (const Error &) {
    return;
  }
  // A loaded graph saves and loads back as itself, in both forms.
  for (GraphFormat f : {GraphFormat::binary, GraphFormat::text})
    require(deserialize(serialize(g, f), f) == g, "a loaded graph round-trips");
  require_listing_reads_back(g);
}

// The variables of tests/errors/inputs/model.kiln.txt, whose checkpoints
// there are this target's seeds.
const Graph &checkpoint_graph() {
  static const Graph g = [] {
    std::string_view text = R"(format_version: 2
      nodes { name: "w" op: "variable" attrs { key: "dtype" value { dtype: DT_F32 } }
              attrs { key: "shape" value { ints { values: 4 } } } }
      nodes { name: "v" op: "variable" attrs { key: "dtype" value { dtype: DT_F32 } }
              attrs { key: "shape" value { ints { values: 4 } } } })";
    return deserialize(text, GraphFormat::text, "checkpoint graph");
  }();
  return g;
}

} // namespace

void graph_binary(std::string_view bytes) { graph(bytes, GraphFormat::binary); }

void graph_text(std::string_view bytes) { graph(bytes, GraphFormat::text); }

void listing(std::string_view bytes) {
  Graph g;
  try {
    g = parse_listing(bytes, "fuzz");
  } catch (const Error &) {
    return;
  }
  require_listing_reads_back(g);
}

void checkpoint(std::string_view bytes) {
  const Graph &g = checkpoint_graph();
  try {
    for (const auto &[id, t] : parse_checkpoint(g, bytes, "fuzz"))
      require(g.node(id).type == TensorType{t.dtype(), t.shape()}, "restored types match");
  } catch (const Error &) {
  }
}

void npy(std::string_view bytes) {
  Tensor t;
  try {
    t = parse_npy(bytes, "fuzz");
  } catch (const Error &) {
    return;
  }
  require(parse_npy(format_npy(t), "again").identical(t), "a read .npy round-trips");
}

void csv(std::string_view bytes) {
  // The first byte picks the dtype.
  if (bytes.empty()) return;
  constexpr DType kDTypes[] = {DType::f32, DType::f64, DType::i32, DType::i64, DType::boolean};
  DType dtype = kDTypes[uint8_t(bytes[0]) % 5];
  try {
    Tensor t = parse_csv(bytes.substr(1), dtype, "fuzz");
    require(t.shape().size() == 2 && t.shape()[0] > 0, "a CSV has rows");
  } catch (const Error &) {
  }
}

void idx(std::string_view bytes) {
  // The first byte is the item limit (0: all).
  if (bytes.empty()) return;
  try {
    Tensor t = parse_idx(bytes.substr(1), "fuzz", 1.0 / 255, uint8_t(bytes[0]));
    require(!t.shape().empty(), "an IDX tensor has a rank");
  } catch (const Error &) {
  }
}

} // namespace kiln::fuzz
