#include "data/augment.h"

#include "data/random_stream.h"
#include "ir/error.h"

#include <cmath>

namespace kiln {

namespace {

struct ImageDims {
  int64_t channels, height, width;
};

// How an item is read as an image (augment.h), or an error naming the map.
ImageDims image_dims(const std::string &map, const Tensor &item) {
  if (item.dtype() != DType::f32) fail("{}: expected an f32 image, got {}", map, item.summary());
  const Shape &s = item.shape();
  if (s.size() == 3) return {s[0], s[1], s[2]};
  if (s.size() == 2) return {1, s[0], s[1]};
  auto side = s.size() == 1 ? int64_t(std::lround(std::sqrt(double(s[0])))) : 0;
  if (side > 0 && side * side == s[0]) return {1, side, side};
  fail("{}: expected an image [C, H, W], [H, W] or a square [H * W], got {}", map, item.summary());
}

// An item of the input's layout holding `dims`.
Tensor image_like(const Tensor &item, ImageDims dims) {
  switch (item.rank()) {
  case 3: return Tensor(DType::f32, {dims.channels, dims.height, dims.width});
  case 2: return Tensor(DType::f32, {dims.height, dims.width});
  default: return Tensor(DType::f32, {dims.height * dims.width});
  }
}

} // namespace

Map random_crop(int64_t pad, int64_t height, int64_t width) {
  std::string name = fmt::format("random_crop(pad {})", pad);
  if (pad < 0) fail("{}: expected pad >= 0", name);
  if (height < 0 || width < 0)
    fail("{}: expected a crop size >= 0 (0: the image's), got {}x{}", name, height, width);
  return {name, [=](const Tensor &item, ops::Random &rng) {
            ImageDims in = image_dims(name, item);
            ImageDims out = {in.channels, height ? height : in.height, width ? width : in.width};
            int64_t padded_h = in.height + 2 * pad, padded_w = in.width + 2 * pad;
            if (out.height > padded_h || out.width > padded_w)
              fail("{}: a {}x{} crop is larger than the padded {}x{} image {}", name, out.height,
                   out.width, padded_h, padded_w, item.summary());
            // The window's top-left corner in padded coordinates.
            auto top = int64_t(uniform_below(rng, uint64_t(padded_h - out.height + 1)));
            auto left = int64_t(uniform_below(rng, uint64_t(padded_w - out.width + 1)));
            Tensor result = image_like(item, out); // zeros: the padding
            std::span<const float> src = item.data<float>();
            std::span<float> dst = result.data<float>();
            for (int64_t c = 0; c < out.channels; ++c)
              for (int64_t y = 0; y < out.height; ++y) {
                int64_t sy = y + top - pad;
                if (sy < 0 || sy >= in.height) continue;
                for (int64_t x = 0; x < out.width; ++x) {
                  int64_t sx = x + left - pad;
                  if (sx < 0 || sx >= in.width) continue;
                  dst[size_t((c * out.height + y) * out.width + x)] =
                      src[size_t((c * in.height + sy) * in.width + sx)];
                }
              }
            return result;
          }};
}

Map random_flip() {
  return {"random_flip", [](const Tensor &item, ops::Random &rng) {
            ImageDims dims = image_dims("random_flip", item);
            if (uniform_below(rng, 2) == 0) return item;
            Tensor result = image_like(item, dims);
            std::span<const float> src = item.data<float>();
            std::span<float> dst = result.data<float>();
            for (int64_t row = 0; row < dims.channels * dims.height; ++row)
              for (int64_t x = 0; x < dims.width; ++x)
                dst[size_t(row * dims.width + x)] =
                    src[size_t(row * dims.width + dims.width - 1 - x)];
            return result;
          }};
}

Map normalize(std::vector<float> mean, std::vector<float> stddev) {
  std::string name = "normalize";
  if (mean.empty() || mean.size() != stddev.size())
    fail("{}: expected as many means as standard deviations (one, or one per channel), got {} "
         "and {}",
         name, mean.size(), stddev.size());
  for (float s : stddev)
    if (!(s > 0)) fail("{}: expected standard deviations > 0, got {}", name, s);
  return {name, [=](const Tensor &item, ops::Random &) {
            ImageDims dims = image_dims(name, item);
            if (mean.size() != 1 && int64_t(mean.size()) != dims.channels)
              fail("{}: {} means for an image of {} channels {}", name, mean.size(), dims.channels,
                   item.summary());
            Tensor result = item.clone();
            std::span<float> values = result.data<float>();
            int64_t plane = dims.height * dims.width;
            for (int64_t c = 0; c < dims.channels; ++c) {
              size_t k = mean.size() == 1 ? 0 : size_t(c);
              for (int64_t i = 0; i < plane; ++i) {
                float &v = values[size_t(c * plane + i)];
                v = (v - mean[k]) / stddev[k];
              }
            }
            return result;
          }};
}

} // namespace kiln
