// The fuzz targets: one entry function per input format, fed arbitrary
// bytes. Each must return normally (bad input is a kiln::Error, caught
// inside) and never crash or trip a sanitizer. libFuzzer drives them
// (fuzz_main.cpp, preset `fuzz`); the normal suite replays every file under
// tests/fuzz/corpus/<target>/ through the same functions (fuzz_replay_test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kiln::fuzz {

void graph_binary(std::string_view bytes);
void graph_text(std::string_view bytes);
void listing(std::string_view bytes);
void checkpoint(std::string_view bytes);
void npy(std::string_view bytes);
void csv(std::string_view bytes);
void idx(std::string_view bytes);
void graph_builder(std::string_view bytes);
void onnx_model(std::string_view bytes);

struct Target {
  std::string_view name;
  void (*run)(std::string_view bytes);
};

inline constexpr Target kTargets[] = {
    {"graph_binary", graph_binary},
    {"graph_text", graph_text},
    {"listing", listing},
    {"checkpoint", checkpoint},
    {"npy", npy},
    {"csv", csv},
    {"idx", idx},
    {"graph_builder", graph_builder},
    {"onnx_model", onnx_model},
};

} // namespace kiln::fuzz
