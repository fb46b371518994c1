// NumPy .npy files: how `kiln run` takes feeds and writes fetches, so that
// tensors move between kiln and Python without a conversion script.
//
// Reads format versions 1.0, 2.0 and 3.0; writes 1.0 (2.0 when the header is
// too long for 1.0). Only what a kiln Tensor can hold is accepted: C order,
// little endian, dtypes <f4 <f8 <i4 <i8 |b1. Anything else is a kiln::Error
// that names the file and what is wrong with it.
#pragma once

#include "ir/tensor.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

Tensor read_npy(const std::filesystem::path &path);
// Writes atomically: a failed write leaves any previous file intact.
void write_npy(const std::filesystem::path &path, const Tensor &t);

// The in-memory forms of the above; `origin` names the bytes in errors.
Tensor parse_npy(std::string_view bytes, const std::string &origin);
std::string format_npy(const Tensor &t);

} // namespace kiln
