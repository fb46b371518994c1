// kiln dump --format html: the viewer page (viewer/graph.js) for a graph,
// with optional overlays: the memory plan of its compiled program and the
// kernel times of a profile (a Chrome trace written by --profile FILE).
#pragma once

#include "session/compiled_graph.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace kiln::tools {

struct PageOverlays {
  std::optional<nlohmann::json> memory;  // memory_json
  std::optional<nlohmann::json> profile; // profile_json
};

// The plan of `c`'s buffers by node of c.graph: offsets, sizes, lifetimes in
// kernels, and each kernel's node.
nlohmann::json memory_json(const CompiledGraph &c, int64_t batch_size);

// Per kernel (by node name) of a Chrome trace that kiln wrote, its calls and
// total µs over the traced runs, and the mean run's µs. Fails naming the file
// when it is not such a trace.
nlohmann::json profile_json(const std::filesystem::path &trace);

std::string graph_page(const Graph &g, const std::string &title, const PageOverlays &overlays);

} // namespace kiln::tools
