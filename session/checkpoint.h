// Checkpoints of a session: the values of its variables in one file
// (runtime/checkpoint_file.h), saved and restored by name.
#pragma once

#include "runtime/checkpoint_file.h"
#include "session/session.h"

#include <filesystem>

namespace kiln {

// Writes every variable of the session's graph, in graph order, atomically:
// a failed save leaves any previous file intact. Equal values give equal
// bytes.
void save_checkpoint(const Session &s, const std::filesystem::path &path);

// Checks the whole file against the graph before changing anything: every
// variable present with the same dtype and shape, none the graph lacks, data
// intact. A failure lists every problem, one per line, and leaves all the
// session's variables as they were. With `allow_extra`, entries the graph
// lacks (a training checkpoint's optimizer slots, restored into an inference
// graph) are skipped.
void restore_checkpoint(Session &s, const std::filesystem::path &path,
                        CheckpointReadOptions options = {});

} // namespace kiln
