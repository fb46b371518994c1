#include "ops/grad.h"

#include "ir/error.h"

namespace kiln {

Value unbroadcast(Value grad, const Shape &shape) {
  Shape from = grad.shape();
  if (from == shape) return grad;
  if (from.size() < shape.size())
    fail("unbroadcast: {} has fewer dims than {}", to_string(from), to_string(shape));
  int64_t lead = int64_t(from.size() - shape.size());
  std::vector<int64_t> leading, ones;
  for (int64_t d = 0; d < lead; ++d) leading.push_back(d);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 1 && from[size_t(lead) + d] != 1) ones.push_back(lead + int64_t(d));
  if (!ones.empty()) grad = sum(grad, ones, /*keepdims=*/true);
  if (!leading.empty()) grad = sum(grad, leading);
  return grad;
}

} // namespace kiln
