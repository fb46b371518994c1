// Checkpoint files: the values of a graph's variables (a protobuf Checkpoint
// message, see ir/kiln.proto), stored by name. Like any protobuf message, a
// checkpoint holds less than 2 GiB. session/checkpoint.h saves and restores
// a Session's variables with these.
#pragma once

#include "ir/graph.h"
#include "runtime/plan.h"

#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln {

// A variable as a checkpoint stores it: by name, with its dtype and shape
// (as an ahead-of-time model lists its variables).
using VariableSpec = TensorSpec;

struct CheckpointReadOptions {
  // Entries the model lacks (an inference graph restoring a training
  // checkpoint, whose optimizer slots it does not have) are skipped, not
  // reported.
  bool allow_extra = false;
};

// The bytes of a checkpoint of `variables`, `value(i)` being the value of
// variables[i]: equal values give equal bytes.
std::string encode_checkpoint(std::span<const VariableSpec> variables,
                              const std::function<Tensor(size_t)> &value,
                              const std::string &origin);

// The value of each of `variables` from a checkpoint's bytes, after checking
// all of them: every variable present with its dtype and shape, data intact,
// and (unless allowed) no entry the model lacks, which `describe_extra(name)`
// explains. A failure lists every problem, one per line, each after `origin`.
std::vector<Tensor>
decode_checkpoint(std::span<const VariableSpec> variables, std::string_view bytes,
                  const std::string &origin, CheckpointReadOptions options = {},
                  const std::function<std::string(const std::string &)> &describe_extra = nullptr);

// Writes `value(id)` for every variable of `g`, in graph order, atomically:
// a failed write leaves any previous file intact. Equal values give equal
// bytes.
void write_checkpoint(const Graph &g, const std::function<Tensor(NodeId)> &value,
                      const std::filesystem::path &path);

// The value of every variable of `g` from the file, after checking the whole
// file against the graph: every variable present with the same dtype and
// shape, none the graph lacks, data intact. A failure lists every problem,
// one per line.
std::vector<std::pair<NodeId, Tensor>> read_checkpoint(const Graph &g,
                                                       const std::filesystem::path &path,
                                                       CheckpointReadOptions options = {});

// The same from the file's bytes; `origin` names them in errors.
std::vector<std::pair<NodeId, Tensor>> parse_checkpoint(const Graph &g, std::string_view bytes,
                                                        const std::string &origin,
                                                        CheckpointReadOptions options = {});

} // namespace kiln
