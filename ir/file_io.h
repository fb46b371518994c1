// Whole files read and replaced atomically: what graphs, checkpoints, the
// compiled-code cache and ahead-of-time outputs are written with.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

// Replaces `path` with `bytes` through a temporary file of its own (unique,
// beside it) and a rename: a reader sees the old file or the new one, whole;
// of concurrent writers, the last rename wins; on failure the old file stays
// and the temporary is removed. `synced` also fsyncs the file before the
// rename and the directory after it, so the new file survives a crash.
enum class Durability { synced, none };
void write_file_atomically(const std::filesystem::path &path, std::string_view bytes,
                           Durability durability = Durability::synced);
std::string read_file(const std::filesystem::path &path);

} // namespace kiln
