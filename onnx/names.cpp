#include "onnx/names.h"

#include <fmt/format.h>

#include <set>

namespace kiln::onnx_import {

namespace {

std::string kiln_name(const std::string &onnx_name) {
  std::string name;
  for (char c : onnx_name) name += c == ':' ? '_' : c;
  size_t slashes = name.find_first_not_of('/');
  name.erase(0, slashes == std::string::npos ? name.size() : slashes);
  return name.empty() ? "value" : name;
}

} // namespace

NameTable::NameTable(const std::vector<std::string> &kept, const std::vector<std::string> &others) {
  std::set<std::string> taken;
  // First every name that stays as it is, so that no changed name takes it.
  for (const std::string &n : kept) names_[n] = n;
  for (const std::string &n : others)
    if (kiln_name(n) == n) names_.emplace(n, n);
  for (const auto &[onnx, kiln] : names_) taken.insert(kiln);
  for (const std::string &n : others) {
    if (names_.count(n)) continue;
    std::string base = kiln_name(n), name = base;
    for (int k = 1; taken.count(name); ++k) name = fmt::format("{}_{}", base, k);
    if (name != base)
      collisions_.push_back(
          fmt::format("value '{}' is named '{}' ('{}' is another value's name)", n, name, base));
    taken.insert(name);
    names_[n] = name;
  }
}

} // namespace kiln::onnx_import
