// Ahead-of-time compilation (`kiln compile`): a graph's inference program
// (`predict`) and, given optimizer targets, its training step (`train_step`)
// compiled for one batch size with the Session's passes, fusion, memory plan
// and kernels into one object file, a C/C++ header (session/aot_header.h)
// and the initial weights as a kiln checkpoint. Host programs link the object
// with kiln_runtime only (runtime/aot_abi.h): no LLVM, no compiler.
#pragma once

#include "passes/pass.h"
#include "runtime/aot_model.h"
#include "runtime/checkpoint_file.h"
#include "runtime/node_ref.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

struct AheadOfTimeOptions {
  std::string name = "model";         // a C identifier: NAME_create(), NAME.o, kiln_model_NAME
  std::vector<NodeRef> fetches;       // the outputs of `predict`
  std::vector<NodeRef> targets;       // optimizer updates: a `train_step` entry when not empty
  std::vector<NodeRef> train_fetches; // its outputs (its loss, say)
  int64_t batch_size = 1;             // what the symbolic batch dimension is
  // The weights: from this checkpoint, else the variables' initializers
  // (computed now, as a Session would at its start).
  std::optional<std::filesystem::path> checkpoint;
  CheckpointReadOptions checkpoint_options;
  bool embed_weights = false;      // in the object, instead of NAME.weights beside it
  std::string target_cpu = "host"; // or an LLVM CPU name
  PipelineOptions passes;
};

// Bytes by kind, for the memory report.
struct AheadOfTimeMemory {
  size_t constant_bytes = 0;
  size_t trainable_bytes = 0, trainable_count = 0;
  size_t other_variable_bytes = 0, other_variable_count = 0; // slots, counters, statistics
  struct Entry {
    std::string name;
    size_t arena_bytes = 0, own_bytes = 0, kernels = 0;
  };
  std::vector<Entry> entries;
  size_t instance_bytes = 0; // variables, one arena (the largest), every entry's own buffers
};

struct AheadOfTimeModel {
  aot::Model model;
  std::string cpu; // resolved
  std::string object, header, weights;
  AheadOfTimeMemory memory;
  double compile_ms = 0;
  size_t kernels = 0, units = 0, distinct_units = 0;
};

AheadOfTimeModel compile_ahead_of_time(const Graph &g, const AheadOfTimeOptions &options);

// Writes PREFIX.o, libPREFIX.a, PREFIX.h and (unless embedded) PREFIX.weights,
// each atomically; returns the paths written.
std::vector<std::filesystem::path> write_ahead_of_time(const AheadOfTimeModel &m,
                                                       const std::filesystem::path &prefix);

} // namespace kiln
