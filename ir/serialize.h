// Graphs on disk: protobuf GraphDef in binary (.kiln) or text (.kiln.txt)
// form. Loading checks everything a hand-edited or damaged file can get
// wrong and names the node at fault.
#pragma once

#include "ir/file_io.h"
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
// A binary file of format 1 loads with a warning (ir/warning.h): nothing
// checks that it is whole.
Graph load_graph(const std::filesystem::path &path);

} // namespace kiln
