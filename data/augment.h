// Image augmentation as pipeline maps (data/pipeline.h), in the manner of
// torchvision.transforms: each draws from its example's stream, so a seed
// gives every epoch its own crops and flips, the same on every run.
//
// An item is an f32 image [C, H, W], [H, W], or [H * W] viewed as a square
// (Fashion-MNIST's [784] as 28 x 28); a map gives back the item's layout.
#pragma once

#include "data/pipeline.h"

#include <vector>

namespace kiln {

// Pads the image with `pad` zeros on each side, then cuts out a `height` x
// `width` window (0: the image's own size) at an offset drawn uniformly,
// row offset first, each in [0, padded - window]: torchvision's
// RandomCrop(size, padding=pad).
Map random_crop(int64_t pad, int64_t height = 0, int64_t width = 0);

// Mirrors the image left to right with probability 1/2 (one draw:
// uniform_below(rng, 2) == 1 flips).
Map random_flip();

// (x - mean[c]) / stddev[c] per channel; one value serves every channel.
Map normalize(std::vector<float> mean, std::vector<float> stddev);

} // namespace kiln
