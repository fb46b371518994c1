#include "ir/op.h"

#include "ir/error.h"

#include <algorithm>

namespace kiln {

const OpDef *OpRegistry::find(std::string_view name) const {
  auto it = std::find_if(ops_.begin(), ops_.end(), [&](const OpDef &d) { return d.name == name; });
  return it == ops_.end() ? nullptr : &*it;
}

void OpRegistry::add(OpDef def) {
  if (find(def.name)) fail("op '{}' is registered twice", def.name);
  // Every op can be type-checked and run by the reference interpreter;
  // computed ops also need a way to be compiled.
  bool computed = def.source == Source::none;
  if (!def.infer || (computed && !def.reference) || (computed && !def.scalar == !def.lower))
    fail("op '{}' is missing its type rule, reference kernel or lowering", def.name);
  ops_.push_back(std::move(def));
}

} // namespace kiln
