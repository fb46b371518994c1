#include "tools/pages.h"

#include "ir/error.h"

namespace kiln::tools {

std::string fill_page(std::string_view page_template, const nlohmann::json &data) {
  constexpr std::string_view kSlot = "@DATA_JSON@";
  if (page_template.empty())
    fail("this kiln was built without its HTML pages (the viewer's npm packages were missing): "
         "run scripts/setup.sh, then configure with -DKILN_VIEWER=ON and rebuild");
  size_t at = page_template.find(kSlot);
  if (at == std::string_view::npos) fail("page template without its {} slot", kSlot);
  std::string json = data.dump();
  std::string escaped;
  escaped.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    escaped += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') escaped += '\\';
  }
  std::string page(page_template.substr(0, at));
  page += escaped;
  page += page_template.substr(at + kSlot.size());
  return page;
}

} // namespace kiln::tools
