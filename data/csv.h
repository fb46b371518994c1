// Numeric CSV files as rank-2 tensors [rows, columns], for feeding tables
// exported from spreadsheets or pandas. Cells are separated by commas, with
// no quoting; spaces around a cell are ignored, and so are blank lines. A
// first line in which no cell is a number is a header and is skipped. Every
// row must have the first line's number of columns.
#pragma once

#include "ir/tensor.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

// Cells are read as `dtype`: floats (also nan, inf), integers (exactly: "1.5"
// is not an i32), or bool as 0/1/true/false. Errors name the file, line and
// column.
Tensor read_csv(const std::filesystem::path &path, DType dtype = DType::f32);

// The in-memory form; `origin` names the text in errors.
Tensor parse_csv(std::string_view text, DType dtype, const std::string &origin);

} // namespace kiln
