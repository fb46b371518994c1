// Data-parallel training steps: examples/s of the job (every rank's items),
// and how much of the gradients' exchange the backward pass hides. Run alone
// (one process, --batch items a step) or under mpirun (each rank --batch
// items of every global batch); rank 0 prints RESULT lines (bench/timing.h):
//   - NAME_items_per_s: 7 blocks of --steps steps after 20 warm-up steps;
//   - NAME_exposed_us: per step, the time the finish steps waited for
//     their buckets, in each of the last 8 steps (the profile's traced runs);
//   - NAME_blocking_us: per step, the same buckets averaged one after the
//     other with nothing to hide under (Communicator::allreduce_mean).
// The hidden fraction is 1 - exposed / blocking (bench/data_parallel.sh).
//
//   mpirun --allow-run-as-root -np 2 build/data_parallel_bench --model mlp --batch 64 --threads 1
#include "distributed/communicator.h"
#include "frontends/losses.h"
#include "frontends/optim.h"
#include "models.h"
#include "passes/passes.h"
#include "session/profile.h"
#include "session/session.h"
#include "timing.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <random>

using namespace kiln;

int main(int argc, char **argv) try {
  CLI::App app("Data-parallel training steps: throughput and the exchange left exposed");
  std::string model = "mlp";
  int64_t batch_size = 64;
  int threads = 1, steps = 20;
  size_t bucket_kib = 0;
  app.add_option("--model", model, "mlp (784-512-10) or lenet (LeNet-5)")
      ->check(CLI::IsMember({"mlp", "lenet"}));
  app.add_option("--batch", batch_size, "items a step per rank");
  app.add_option("--threads", threads, "threads per rank");
  app.add_option("--steps", steps, "steps per timed block");
  app.add_option("--bucket-kib", bucket_kib,
                 "the gradient buckets' size in KiB (0: the pass's default)");
  bool table = false;
  app.add_flag("--profile", table, "print rank 0's profile table");
  CLI11_PARSE(app, argc, argv);

  Communicator comm;
  Graph g;
  Shape image = model == "mlp" ? Shape{batch, 784} : Shape{batch, 1, 28, 28};
  Value x = placeholder(g, "x", f32, image);
  Value y = placeholder(g, "y", i32, {batch});
  Value logits = model == "mlp" ? models::mlp(g, x, 0) : models::lenet(g, x, 0);
  Value loss = mean(nn::softmax_cross_entropy(logits, y));
  Value train = optim::Adam{.lr = 1e-3}.minimize(loss);

  std::mt19937 rng(uint32_t(comm.rank()));
  std::uniform_real_distribution<float> pixel(0, 1);
  Shape shape = image;
  shape[0] = batch_size;
  Tensor inputs(f32, shape), labels(i32, {batch_size});
  for (float &v : inputs.data<float>()) v = pixel(rng);
  for (int64_t i = 0; i < batch_size; ++i) labels.set(i, double(rng() % 10));
  Feeds feeds = {{x, inputs}, {y, labels}};

  SessionOptions options{.threads = threads, .profile = true, .communicator = &comm};
  options.passes.data_parallel = {.on = comm.size() > 1, .bucket_bytes = bucket_kib << 10};
  Session s(g, options);
  std::vector<double> rates = bench::throughput_blocks([&] { s.run(feeds, {loss}, {train}); },
                                                       batch_size * comm.size(), steps);
  std::string name = fmt::format("{}_{}x{}", model, comm.size(), threads);
  // Per step, the finish steps' wait, in each of the profile's last runs
  // (Profile::kTracedRuns): a median shrugs off a step where one rank was
  // descheduled.
  std::vector<double> exposed_us;
  const Profile &profile = s.profile();
  for (const Profile::Program &p : profile.programs())
    for (const Profile::Run &r : p.traced) {
      double us = 0;
      for (size_t k = 0; k < p.kernels.size(); ++k)
        if (p.kernels[k].op == "allreduce_mean_finish")
          us += std::chrono::duration<double, std::micro>(r.kernels[k + 1] - r.kernels[k]).count();
      exposed_us.push_back(us);
    }

  // The buckets' sizes, from the pass.
  RootedGraph optimized = optimize({g, {loss.id, train.id}}, options.passes);
  std::vector<Tensor> buckets;
  for (const Node &n : optimized.graph.nodes())
    if (n.op->name == "gradient_bucket") buckets.emplace_back(f32, n.type.shape);
  std::vector<double> blocking = bench::latency_blocks(
      [&] {
        for (Tensor &b : buckets) comm.allreduce_mean(b);
      },
      steps);
  if (comm.rank() == 0 && table) fmt::print("{}", profile_table(profile));
  if (comm.rank() == 0) {
    bench::result(name + "_items_per_s", rates, "items/s");
    if (comm.size() > 1) {
      bench::result(name + "_exposed_us", exposed_us, "us");
      bench::result(name + "_blocking_us", blocking, "us");
    }
  }
} catch (const std::exception &e) {
  fmt::print(stderr, "data_parallel_bench: error: {}\n", e.what());
  return 1;
}
