// Writes the models of bench/aot.sh, the peers' architectures
// (bench/peers/peerlib.py), to DIR/mlp.kiln and DIR/lenet.kiln:
//   mlp:   784-512(ReLU)-10, fetch "logits"; train target "adam/train", fetch "loss";
//   lenet: conv 6 5x5 - relu - pool - conv 16 5x5 - relu - pool - 256-120-84-10, no
//          padding, fetch "logits".
#include "frontends/losses.h"
#include "frontends/nn.h"
#include "frontends/optim.h"
#include "ir/serialize.h"

#include <cstdio>
#include <filesystem>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_bench_models DIR\n");
    return 2;
  }
  using namespace kiln;
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, 784});
    Value y = placeholder(g, "y", i32, {batch});
    Value h = nn::dense(g, x, 512, nn::relu);
    Value logits = reshape(nn::dense(g, h, 10), {batch, 10}, "logits");
    Value loss = mean(nn::softmax_cross_entropy(logits, y), {}, false, "loss");
    optim::Adam{.lr = 1e-3}.minimize(loss);
    save_graph(g, dir / "mlp.kiln");
  }
  {
    Graph g;
    Value x = placeholder(g, "x", f32, {batch, 1, 28, 28});
    Value h = max_pool2d(nn::conv2d(g, x, 6, 5, nn::relu));
    h = max_pool2d(nn::conv2d(g, h, 16, 5, nn::relu));
    h = nn::dense(g, flatten(h), 120, nn::relu);
    h = nn::dense(g, h, 84, nn::relu);
    reshape(nn::dense(g, h, 10), {batch, 10}, "logits");
    save_graph(g, dir / "lenet.kiln");
  }
  return 0;
}
