// The HTML pages kiln writes (kiln dump --format html, kiln plot): templates
// from viewer/, with their JavaScript libraries inlined when kiln is built
// (cmake/embed_pages.cmake), so that a page needs no network.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace kiln::tools {

// Generated into the build tree from viewer/graph.html and viewer/plot.html;
// empty when kiln is built without them (KILN_VIEWER off).
std::string_view graph_page_template();
std::string_view plot_page_template();

// The template with `data` as its JSON (the @DATA_JSON@ slot, inside a
// <script> element: "</" is written "<\/" so no value can close it). Fails
// saying how to get the pages when the template is empty.
std::string fill_page(std::string_view page_template, const nlohmann::json &data);

} // namespace kiln::tools
