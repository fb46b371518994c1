// Central finite differences of a scalar in the reference interpreter: the
// numeric side of the gradient tests (grad_test.cpp, layer_check.h).
#pragma once

#include "runtime/reference.h"

#include <algorithm>
#include <cmath>

namespace kiln::test {

// d loss / d feeds[i], each element perturbed by h = 1e-6 max(1, |x|) in turn.
// Central differences with this h are good to ~1e-10 on O(1) functions.
inline Tensor numeric_gradient(const Graph &g, Feeds &feeds, size_t i, const NodeRef &loss) {
  Tensor &x = feeds[i].second;
  Tensor numeric(f64, x.shape());
  for (int64_t e = 0; e < numeric.size(); ++e) {
    double x0 = x.get(e), h = 1e-6 * std::max(1.0, std::abs(x0));
    x.set(e, x0 + h);
    double up = run_reference(g, feeds, {loss})[0].get(0);
    x.set(e, x0 - h);
    double down = run_reference(g, feeds, {loss})[0].get(0);
    x.set(e, x0);
    numeric.set(e, (up - down) / (2 * h));
  }
  return numeric;
}

} // namespace kiln::test
