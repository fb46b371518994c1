// Optimizers: a few steps of each against its update rule written out here,
// plus schedules, slots and the state ops they are made of.
#include "frontends/optim.h"
#include "ir/error.h"
#include "runtime/reference.h"
#include "session/session.h"
#include "test_util.h"

#include <cmath>
#include <map>

using namespace kiln;

namespace {

// Schedules run in the variables' dtype: f64 here, compared to 1e-12.
constexpr int kSteps = 4;
const std::vector<double> kStart = {0.5, -1.5, 2.0};
const std::vector<double> kScale = {1.0, 3.0, -0.5}; // loss = 0.5 * sum(scale * w^2)

// Runs `kSteps` steps of `minimize` on the loss above and returns w after each.
template <typename Optimizer> std::vector<std::vector<double>> train(const Optimizer &opt) {
  Graph g;
  Value w = variable(g, "w", f64, {3});
  Value scale = constant(g, Tensor::from<double>({3}, {kScale[0], kScale[1], kScale[2]}));
  Value loss = sum(scale * square(w)) * 0.5;
  Value step = opt.minimize(loss);
  Session s(g);
  s.set_variable(w, Tensor::from<double>({3}, {kStart[0], kStart[1], kStart[2]}));
  std::vector<std::vector<double>> trace;
  for (int i = 0; i < kSteps; ++i) {
    s.run({}, {}, {step});
    Tensor t = s.variable(w);
    trace.push_back({t.get(0), t.get(1), t.get(2)});
  }
  CHECK(s.variable("global_step").get(0) == kSteps);
  return trace;
}

// The same steps written out: `rule(w, g, t)` updates w in place for step t (from 1).
template <typename Rule> std::vector<std::vector<double>> expected(Rule rule) {
  std::vector<double> w = kStart;
  std::vector<std::vector<double>> trace;
  for (int t = 1; t <= kSteps; ++t) {
    for (size_t i = 0; i < w.size(); ++i) rule(i, w[i], kScale[i] * w[i], t);
    trace.push_back(w);
  }
  return trace;
}

void check_trace(const std::vector<std::vector<double>> &actual,
                 const std::vector<std::vector<double>> &want) {
  for (size_t t = 0; t < want.size(); ++t)
    for (size_t i = 0; i < want[t].size(); ++i) {
      INFO("step " << t + 1 << ", element " << i);
      CHECK(actual[t][i] == Approx(want[t][i]).epsilon(1e-12));
    }
}

} // namespace

TEST_CASE("SGD with decoupled weight decay follows its rule", "[optim]") {
  double lr = 0.125, wd = 0.05;
  check_trace(train(optim::SGD{.lr = lr, .weight_decay = wd}),
              expected([&](size_t, double &w, double g, int) { w = w * (1 - lr * wd) - lr * g; }));
}

TEST_CASE("momentum and Nesterov follow torch.optim.SGD's rules", "[optim]") {
  for (bool nesterov : {false, true}) {
    INFO("nesterov " << nesterov);
    double lr = 0.0625, mu = 0.9;
    std::vector<double> buf(3, 0);
    check_trace(train(optim::Momentum{.lr = lr, .momentum = mu, .nesterov = nesterov}),
                expected([&](size_t i, double &w, double g, int) {
                  buf[i] = mu * buf[i] + g;
                  w -= lr * (nesterov ? g + mu * buf[i] : buf[i]);
                }));
  }
}

TEST_CASE("RMSProp follows torch.optim.RMSprop's rule", "[optim]") {
  double lr = 0.015625, rho = 0.9, eps = 1e-8;
  std::vector<double> ms(3, 0);
  check_trace(train(optim::RMSProp{.lr = lr, .rho = rho, .epsilon = eps}),
              expected([&](size_t i, double &w, double g, int) {
                ms[i] = rho * ms[i] + (1 - rho) * g * g;
                w -= lr * g / (std::sqrt(ms[i]) + eps);
              }));
}

TEST_CASE("Adam and AdamW follow torch.optim's rules with bias correction", "[optim]") {
  for (double wd : {0.0, 0.1}) {
    INFO("weight decay " << wd);
    double lr = 0.125, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    std::vector<double> m(3, 0), v(3, 0);
    check_trace(train(optim::Adam{.lr = lr, .weight_decay = wd}),
                expected([&](size_t i, double &w, double g, int t) {
                  w *= 1 - lr * wd;
                  m[i] = b1 * m[i] + (1 - b1) * g;
                  v[i] = b2 * v[i] + (1 - b2) * g * g;
                  double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
                  w -= lr * mhat / (std::sqrt(vhat) + eps);
                }));
  }
}

TEST_CASE("Adam in f64 follows PyTorch's f64 trajectory: the rate is f64 too", "[optim]") {
  // torch.optim.Adam([w], lr=1e-2) in float64 on the loss above (1e-2 is not
  // an f32 value: an f32 rate drifted ~1e-8 from this by step 50).
  const std::map<int, std::vector<double>> torch = {
      {1, {0.4900000002, -1.4900000000222222, 2.0099999999000002}},
      {10, {0.40076016406529746, -1.4002267757231974, 2.100154648509892}},
      {50, {0.09011191749539098, -1.022897138910098, 2.513581883495284}},
  };
  Graph g;
  Value w = variable(g, "w", f64, {3});
  Value scale = constant(g, Tensor::from<double>({3}, {kScale[0], kScale[1], kScale[2]}));
  Value step = optim::Adam{.lr = 1e-2}.minimize(sum(scale * square(w)) * 0.5);
  CHECK(g.node(g.at("adam/lr_f64")).type.dtype == f64);
  CHECK(!g.find("adam/lr")); // no f32 rate where no variable is f32
  Session s(g);
  s.set_variable(w, Tensor::from<double>({3}, {kStart[0], kStart[1], kStart[2]}));
  for (int t = 1; t <= 50; ++t) {
    s.run({}, {}, {step});
    if (!torch.count(t)) continue;
    Tensor now = s.variable(w);
    for (size_t i = 0; i < 3; ++i) {
      INFO("step " << t << ", element " << i);
      CHECK(std::abs(now.get(int64_t(i)) - torch.at(t)[i]) <= 1e-12);
    }
  }
}

TEST_CASE("learning-rate schedules follow the global step", "[optim]") {
  Graph g;
  Value taken = placeholder(g, "taken", f32, {});
  Value step = optim::step_decay(0.1, 10, 0.5).rate(taken);
  Value exponential = optim::exponential_decay(0.1, 10, 0.5).rate(taken);
  Value cosine = optim::cosine_decay(0.1, 100, 0.01).rate(taken);
  Session s(g);
  for (double t : {0.0, 9.0, 10.0, 25.0, 50.0, 100.0, 150.0}) {
    INFO("steps taken " << t);
    std::vector<Tensor> r = s.run({{taken, Tensor::scalar(float(t))}}, {step, exponential, cosine});
    double progress = std::min(t / 100, 1.0);
    CHECK(r[0].get(0) == Approx(0.1 * std::pow(0.5, std::floor(t / 10))).epsilon(1e-6));
    CHECK(r[1].get(0) == Approx(0.1 * std::pow(0.5, t / 10)).epsilon(1e-6));
    CHECK(r[2].get(0) == Approx(0.01 + 0.09 * 0.5 * (1 + std::cos(M_PI * progress))).epsilon(1e-6));
  }
}

TEST_CASE("optimizer slots are named variables and training leaves others alone", "[optim]") {
  Graph g;
  Value x = placeholder(g, "x", f32, {batch, 2});
  Value w = variable(g, "dense/W", f32, {2, 1}, Init::constant(0.5));
  Value frozen = variable(g, "frozen", f32, {1}, Init::constant(2), /*trainable=*/false);
  Value loss = mean(square(matmul(x, w) * frozen));
  Value train = optim::Adam{}.minimize(loss);
  for (const char *slot : {"adam/dense/W/m", "adam/dense/W/v", "global_step"}) {
    INFO(slot);
    REQUIRE(g.find(slot));
    CHECK(g.node(*g.find(slot)).attr_bool("trainable") == false);
  }
  CHECK_FALSE(g.find("adam/frozen/m"));
  Session s(g);
  s.run({{x, Tensor::from<float>({2, 2}, {1, 2, 3, 4})}}, {}, {train});
  CHECK(s.variable(frozen).get(0) == 2);
  CHECK(s.variable(w).get(0) != 0.5);
}

TEST_CASE("state ops update in graph order, compiled as in the reference", "[optim][state]") {
  Graph g;
  Value v = variable(g, "v", f32, {2}, Init::constant(1));
  Value before = v * 1.0f;
  Value added = assign_add(v, 2.0);
  Value after = v * 1.0f; // added after the update: sees it
  Value avg = moving_average(variable(g, "avg", f32, {2}), added, 0.5);
  std::vector<NodeRef> fetches = {before, added, after, avg};
  Session s(g);
  std::vector<Tensor> r = s.run({}, fetches);
  CHECK(r[0].get(0) == 1);
  CHECK(r[1].get(0) == 3);
  CHECK(r[2].get(0) == 3);
  CHECK(r[3].get(0) == 1.5);
  std::vector<Tensor> ref = run_reference(g, {}, fetches);
  for (size_t i = 0; i < r.size(); ++i) CHECK(test::compare(r[i], ref[i], 0) == "");
  CHECK(s.run({}, {added})[0].get(0) == 5); // state persists across runs

  Value not_a_variable = v + 1.0f;
  CHECK_THROWS_WITH(assign(not_a_variable, v, "bad"),
                    "node 'bad' (assign): input 0 must be a variable, got node 'add' (add)");
  CHECK_THROWS_WITH(assign(v, constant(g, Tensor::from<float>({3}, {1, 2, 3})), "wide"),
                    "node 'wide' (assign): cannot broadcast shapes [2] and [3]");
  Value row = constant(g, Tensor::from<float>({2, 2}, {1, 2, 3, 4}));
  CHECK_THROWS_WITH(assign(v, row, "grows"),
                    "node 'grows' (assign): the update has shape [2, 2], the variable [2]");
}
