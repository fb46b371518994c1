#include "ir/warning.h"

#include <cstdio>
#include <mutex>
#include <utility>

namespace kiln {

namespace {

std::mutex &handler_lock() {
  static std::mutex lock;
  return lock;
}

WarningHandler &current_handler() {
  static WarningHandler handler;
  return handler;
}

} // namespace

WarningHandler set_warning_handler(WarningHandler handler) {
  std::lock_guard<std::mutex> hold(handler_lock());
  return std::exchange(current_handler(), std::move(handler));
}

void warn(const std::string &message) {
  std::lock_guard<std::mutex> hold(handler_lock());
  if (current_handler())
    current_handler()(message);
  else
    fmt::print(stderr, "kiln: warning: {}\n", message);
}

} // namespace kiln
