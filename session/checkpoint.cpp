#include "session/checkpoint.h"

namespace kiln {

void save_checkpoint(const Session &s, const std::filesystem::path &path) {
  auto value = [&](NodeId id) { return s.variable(id); };
  write_checkpoint(s.graph(), value, path);
}

void restore_checkpoint(Session &s, const std::filesystem::path &path,
                        CheckpointReadOptions options) {
  // Every value has its variable's dtype and shape: nothing below can fail.
  for (auto &[id, value] : read_checkpoint(s.graph(), path, options)) s.set_variable(id, value);
}

} // namespace kiln
