// A graph as the JSON that kiln's HTML viewer reads (viewer/graph.js): per
// node its name, op, type, inputs, short attributes, its role and, for fused
// nodes, its members.
#pragma once

#include "ir/graph.h"

#include <nlohmann/json.hpp>

#include <string>

namespace kiln::tools {

// An attribute as a person reads it: floats at the precision they were
// written with (an f32 0.9 prints 0.9, not 0.8999999761581421), long tensors
// as their type and first values, fused bodies as their members' names.
std::string short_value(const AttrValue &v);

// {"title", "nodes": [{"name", "op", "type", "inputs", "attrs", "role",
// "source", "body", "fusion_kind"}]}. The role says which part of training a
// node belongs to: "gradient" (under a gradients scope), "update" (a state
// update, or computed only for updates: optimizer slots, learning-rate
// schedules) or "forward".
nlohmann::json graph_json(const Graph &g, const std::string &title);

} // namespace kiln::tools
