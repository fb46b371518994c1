#include "tools/html_view.h"

#include "ir/error.h"
#include "ir/serialize.h"
#include "tools/graph_json.h"
#include "tools/pages.h"

#include <map>

namespace kiln::tools {

namespace {

using Json = nlohmann::json;

// "dense/matmul #1": the second kernel of node dense/matmul (session/profile.h).
std::string kernel_node(const std::string &event) {
  size_t hash = event.rfind(" #");
  return hash == std::string::npos ? event : event.substr(0, hash);
}

Json parse_trace(const std::filesystem::path &trace) {
  try {
    Json j = Json::parse(read_file(trace));
    if (!j.is_object() || !j.contains("traceEvents") || !j["traceEvents"].is_array())
      fail("{}: not a Chrome trace (no traceEvents array)", trace.string());
    return j;
  } catch (const Json::exception &e) {
    fail("{}: not a Chrome trace: {}", trace.string(), e.what());
  }
}

} // namespace

nlohmann::json memory_json(const CompiledGraph &c, int64_t batch_size) {
  const compiler::MemoryPlan &plan = *c.memory;
  Json buffers = Json::array();
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const compiler::PlannedBuffer &b = plan.buffers[i];
    const compiler::BufferInfo &info = c.program.buffers[i];
    buffers.push_back({{"node", info.node},
                       {"owner", info.owner},
                       {"bytes", info.bytes()},
                       {"in_arena", b.in_arena},
                       {"offset", b.offset},
                       {"first", b.first},
                       {"last", b.last},
                       {"reuses", b.reuses}});
  }
  Json kernels = Json::array();
  for (const compiler::Kernel &k : c.program.kernels) kernels.push_back(k.node);
  return {{"batch", batch_size},
          {"arena_bytes", plan.arena_bytes},
          {"total_bytes", plan.total_bytes},
          {"peak_live_bytes", plan.peak_live_bytes},
          {"kernels", std::move(kernels)},
          {"buffers", std::move(buffers)}};
}

nlohmann::json profile_json(const std::filesystem::path &trace) {
  Json j = parse_trace(trace);
  std::map<std::string, std::pair<int64_t, double>> kernels; // calls, total µs
  int64_t runs = 0;
  double kernel_us = 0;
  for (const Json &e : j["traceEvents"]) {
    if (!e.is_object() || e.value("ph", "") != "X") continue;
    std::string category = e.value("cat", "");
    if (category == "run") ++runs;
    if (category != "kernel") continue;
    double us = e.value("dur", 0.0);
    auto &[calls, total] = kernels[kernel_node(e.value("name", ""))];
    ++calls;
    total += us;
    kernel_us += us;
  }
  if (runs == 0)
    fail("{}: the trace records no runs (write it with kiln run --profile FILE, or a training "
         "example's --profile FILE)",
         trace.string());
  Json by_name = Json::object();
  for (const auto &[name, totals] : kernels)
    by_name[name] = {{"calls", totals.first}, {"total_us", totals.second}};
  return {{"file", trace.string()},
          {"runs", runs},
          {"mean_run_us", kernel_us / double(runs)},
          {"kernels", std::move(by_name)}};
}

std::string graph_page(const Graph &g, const std::string &title, const PageOverlays &overlays) {
  Json data = graph_json(g, title);
  data["memory"] = overlays.memory ? *overlays.memory : Json();
  data["profile"] = overlays.profile ? *overlays.profile : Json();
  return fill_page(graph_page_template(), data);
}

} // namespace kiln::tools
