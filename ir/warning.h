// Warnings: what kiln tells its user without stopping, such as a graph file
// that loads but carries no checksum. They go to stderr as "kiln: warning:
// MESSAGE" unless the host program routes them elsewhere.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string>

namespace kiln {

using WarningHandler = std::function<void(const std::string &message)>;

// Sends every later warning to `handler` (nullptr: back to stderr) and
// returns the handler it replaces. Warnings may come from any thread; the
// handler is called under a lock.
WarningHandler set_warning_handler(WarningHandler handler);

void warn(const std::string &message);

template <typename... Args> void warn(fmt::format_string<Args...> format, Args &&...args) {
  warn(fmt::format(format, std::forward<Args>(args)...));
}

} // namespace kiln
