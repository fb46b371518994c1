// Checkpoint files: the values of a graph's variables (a protobuf Checkpoint
// message, see ir/kiln.proto), stored by name. Like any protobuf message, a
// checkpoint holds less than 2 GiB. session/checkpoint.h saves and restores
// a Session's variables with these.
#pragma once

#include "ir/graph.h"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln {

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
                                                       const std::filesystem::path &path);

// The same from the file's bytes; `origin` names them in errors.
std::vector<std::pair<NodeId, Tensor>> parse_checkpoint(const Graph &g, std::string_view bytes,
                                                        const std::string &origin);

} // namespace kiln
