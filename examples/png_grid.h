// Writes gray images as one PNG grid with libpng: what the VAE example
// shows its samples and reconstructions with.
#pragma once

#include "ir/tensor.h"

#include <png.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// images [count, side * side], values in [0, 1], as a grid `columns` wide
// with a 1-pixel black border between images.
inline void write_png_grid(const std::filesystem::path &path, const kiln::Tensor &images,
                           int64_t side, int64_t columns) {
  int64_t count = images.shape()[0], rows = (count + columns - 1) / columns;
  int64_t width = columns * (side + 1) + 1, height = rows * (side + 1) + 1;
  std::vector<png_byte> pixels(size_t(width * height), 0);
  for (int64_t i = 0; i < count; ++i)
    for (int64_t y = 0; y < side; ++y)
      for (int64_t x = 0; x < side; ++x) {
        double v = images.get(i * side * side + y * side + x);
        int64_t row = (i / columns) * (side + 1) + 1 + y, col = (i % columns) * (side + 1) + 1 + x;
        pixels[size_t(row * width + col)] = png_byte(std::clamp(v, 0.0, 1.0) * 255 + 0.5);
      }
  std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!file) throw std::runtime_error("cannot write " + path.string());
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng failed writing " + path.string());
  }
  png_init_io(png, file.get());
  png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int64_t row = 0; row < height; ++row) png_write_row(png, &pixels[size_t(row * width)]);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
}
