// Graphs on disk: protobuf GraphDef in binary (.kiln) or text (.kiln.txt)
// form. Loading checks everything a hand-edited or damaged file can get
// wrong and names the node at fault.
#pragma once

#include "ir/graph.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

// Version 2 adds a checksum to binary files; version 1 files still load.
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestFormatVersion = 1;

// Text graphs are for reading and editing by hand; past these limits a file
// is refused before it is parsed (protobuf's text parser would recurse once
// per level, and a few thousand levels overflow the stack). 100 levels is
// also the binary parser's limit.
inline constexpr size_t kMaxTextGraphBytes = size_t(256) << 20;
inline constexpr int kMaxGraphNesting = 100;

enum class GraphFormat { binary, text };

std::string serialize(const Graph &g, GraphFormat format);
Graph deserialize(std::string_view bytes, GraphFormat format, const std::string &origin = "graph");

// The format follows the file name: ".txt" (e.g. "mlp.kiln.txt") is text.
GraphFormat format_for(const std::filesystem::path &path);

// Writes atomically: a failed save leaves any previous file intact.
void save_graph(const Graph &g, const std::filesystem::path &path);
Graph load_graph(const std::filesystem::path &path);

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
