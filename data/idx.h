// Reader for the IDX files of MNIST-style datasets (Debian's
// dataset-fashion-mnist installs them gzipped under
// /usr/share/datasets/fashion-mnist/).
#pragma once

#include "ir/tensor.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

inline const std::filesystem::path kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads an IDX file, gzipped or not. Unsigned bytes become f32 scaled by
// `scale` for images or i32 labels (scale ignored), by the file's rank:
// rank 1 gives i32 labels, higher ranks f32 images. `limit` > 0 keeps the
// first `limit` items.
Tensor read_idx(const std::filesystem::path &path, double scale = 1.0 / 255, int64_t limit = 0);

// The same from the (unzipped) bytes; `origin` names them in errors.
Tensor parse_idx(std::string_view bytes, const std::string &origin, double scale = 1.0 / 255,
                 int64_t limit = 0);

} // namespace kiln
