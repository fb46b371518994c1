// Renders DOT with Graphviz's `dot` program, found on PATH: kiln links no
// Graphviz library, and the `dot` a user has installed is the one they expect.
#pragma once

#include <string>

namespace kiln::tools {

// The SVG document; fails with a kiln::Error when `dot` is missing or fails.
std::string render_svg(const std::string &dot);

} // namespace kiln::tools
