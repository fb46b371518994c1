// The in-memory graph: nodes in topological order, each with one output of a
// known dtype and (possibly symbolic) shape. A Graph is valid by construction:
// add_node checks the op, the inputs and the attributes and infers the type,
// so every error names the node.
#pragma once

#include "ir/attr.h"
#include "ir/op.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln {

using NodeId = int32_t;

struct Node {
  NodeId id = -1;
  std::string name;
  const OpDef *op = nullptr;
  std::vector<NodeId> inputs;
  Attrs attrs;
  TensorType type;

  const AttrValue &attr(std::string_view key) const;
  int64_t attr_int(std::string_view key) const { return std::get<int64_t>(attr(key)); }
  double attr_float(std::string_view key) const { return std::get<double>(attr(key)); }
  bool attr_bool(std::string_view key) const { return std::get<bool>(attr(key)); }
  const std::string &attr_string(std::string_view key) const {
    return std::get<std::string>(attr(key));
  }
  const std::vector<int64_t> &attr_ints(std::string_view key) const {
    return std::get<std::vector<int64_t>>(attr(key));
  }
  DType attr_dtype(std::string_view key) const { return std::get<DType>(attr(key)); }
  const Tensor &attr_tensor(std::string_view key) const { return std::get<Tensor>(attr(key)); }

  // "node 'dense/matmul' (matmul)": how errors name a node.
  std::string describe() const;
};

class Graph {
public:
  // Checks and appends a node; inputs must already be in the graph.
  NodeId add_node(std::string_view op, std::string name, std::vector<NodeId> inputs,
                  Attrs attrs = {});

  // Room for `nodes` nodes in all, so that adding them does not rehash the names.
  void reserve(size_t nodes);

  const Node &node(NodeId id) const { return nodes_.at(static_cast<size_t>(id)); }
  const std::vector<Node> &nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }

  std::optional<NodeId> find(std::string_view name) const;
  // Fails with "no node named 'x'" when absent.
  NodeId at(std::string_view name) const;

  // Name scopes make dumps read well: inside scope "dense", "matmul" becomes
  // "dense/matmul". unique_name adds "_1", "_2"... on collisions.
  void push_scope(std::string_view scope);
  void pop_scope();
  std::string unique_name(std::string_view base) const;
  // "outer/inner/" inside those scopes, "" outside any.
  std::string scope_prefix() const;

  // Same nodes, names, attributes and order.
  bool operator==(const Graph &other) const;

private:
  std::vector<Node> nodes_;
  std::unordered_map<std::string, NodeId> by_name_;
  // By name: every suffix below it is taken (nodes are never removed), so
  // naming the n-th "relu" does not try the n - 1 before it.
  mutable std::unordered_map<std::string, int> next_suffix_;
  std::vector<std::string> scopes_;
};

// RAII name scope.
class NameScope {
public:
  NameScope(Graph &g, std::string_view scope) : g_(g) { g_.push_scope(scope); }
  ~NameScope() { g_.pop_scope(); }
  NameScope(const NameScope &) = delete;
  NameScope &operator=(const NameScope &) = delete;

private:
  Graph &g_;
};

// The graph's types with the batch dim bound to `batch_size`: the concrete
// types a compiled executable is specialized for. Type rules keep the batch
// dim symbolic exactly when a concrete batch would substitute into it (e.g.
// reshape's -1 must stand for the batch dim), so binding is substitution.
// Fails naming the first node whose shape holds more than kMaxElements at
// that batch size.
std::vector<TensorType> bind_types(const Graph &g, int64_t batch_size);

// The nodes no other node uses: the roots of a saved model, which records no
// fetches of its own, and what a user usually fetches.
std::vector<NodeId> sink_nodes(const Graph &g);

} // namespace kiln
