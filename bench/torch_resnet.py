"""The PyTorch peer of `fashion_conv --model resnet` (bench/resnet.sh): the
same residual net (conv 32 3x3 - batch norm - relu - residual blocks 32, 64
/2, 128 /2 - global average pool - dense 10; He-uniform convolutions without
bias, Glorot-uniform dense, batch norm momentum 0.1 and epsilon 1e-5) and the
same recipe: AdamW (decoupled decay, as kiln's Adam.weight_decay) with the
rate decayed to 0 along half a cosine over every step, batch 64 reshuffled
each epoch (the last partial batch kept), training images augmented by a
random 28x28 crop of the image padded with 2 zeros a side and a horizontal
flip with probability 1/2, then every image normalized by Fashion-MNIST's
mean 0.2860 and deviation 0.3530. Augmentation runs on whole batches as
tensor ops (a Python loop per image would be the peer at its worst).
Prints each epoch and then, as fashion_conv does:
    test accuracy <a>% after <n> epochs, <s> s of training

    python3 torch_resnet.py --epochs 15 --threads 2 [--limit N]
"""
import argparse
import math
import time

from fashion_train import idx
from torch_threads import torch_with_threads


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images (0: all)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch = torch_with_threads(a.threads)
    torch.set_flush_denormal(True)  # as kiln's kernels run
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(a.seed)

    def conv(c_in, c_out, k, stride):
        layer = nn.Conv2d(c_in, c_out, k, stride, padding=k // 2, bias=False)
        nn.init.kaiming_uniform_(layer.weight, a=0)  # He uniform: bound sqrt(6 / fan_in)
        return layer

    class Residual(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.body = nn.Sequential(conv(c_in, c_out, 3, stride), nn.BatchNorm2d(c_out), nn.ReLU(),
                                      conv(c_out, c_out, 3, 1), nn.BatchNorm2d(c_out))
            self.shortcut = (nn.Sequential(conv(c_in, c_out, 1, stride), nn.BatchNorm2d(c_out))
                             if stride != 1 or c_in != c_out else nn.Identity())

        def forward(self, x):
            return F.relu(self.body(x) + self.shortcut(x))

    dense = nn.Linear(128, 10)
    nn.init.xavier_uniform_(dense.weight)
    nn.init.zeros_(dense.bias)
    model = nn.Sequential(conv(1, 32, 3, 1), nn.BatchNorm2d(32), nn.ReLU(), Residual(32, 32, 1),
                          Residual(32, 64, 2), Residual(64, 128, 2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), dense)

    def images(name):
        x = torch.tensor(idx(name), dtype=torch.float32).div_(255).unsqueeze(1)
        return (x - 0.2860) / 0.3530

    x, y = images("train-images-idx3-ubyte"), torch.tensor(idx("train-labels-idx1-ubyte")).long()
    if a.limit:
        x, y = x[:a.limit], y[:a.limit]
    tx, ty = images("t10k-images-idx3-ubyte"), torch.tensor(idx("t10k-labels-idx1-ubyte")).long()
    # Padding with zeros before normalizing, as kiln's crop does: the pad value
    # once normalized.
    pad_value = (0 - 0.2860) / 0.3530

    def augment(batch):
        n = len(batch)
        padded = F.pad(batch, (2, 2, 2, 2), value=pad_value)
        rows = torch.randint(0, 5, (n,))
        cols = torch.randint(0, 5, (n,))
        r = (rows[:, None] + torch.arange(28))[:, :, None]  # [n, 28, 1]
        c = (cols[:, None] + torch.arange(28))[:, None, :]  # [n, 1, 28]
        crops = padded[torch.arange(n)[:, None, None], 0, r, c].unsqueeze(1)
        flip = torch.rand(n) < 0.5
        return torch.where(flip[:, None, None, None], crops.flip(3), crops)

    steps_per_epoch = math.ceil(len(x) / a.batch)
    total = steps_per_epoch * a.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t / total, 1))))

    def test_accuracy():
        model.eval()
        with torch.no_grad():
            right = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                        for i in range(0, len(tx), 1000))
        model.train()
        return right / len(tx)

    seconds = 0
    for epoch in range(a.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        loss_sum = 0.0
        for i in range(0, len(x), a.batch):
            take = order[i:i + a.batch]
            loss = F.cross_entropy(model(augment(x[take])), y[take])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            loss_sum += loss.item()
        seconds += time.perf_counter() - start
        print(f"epoch {epoch + 1}/{a.epochs}: loss {loss_sum / steps_per_epoch:.4f}, "
              f"test accuracy {100 * test_accuracy():.2f}%", flush=True)
    print(f"test accuracy {100 * test_accuracy():.2f}% after {a.epochs} epochs, "
          f"{seconds:.1f} s of training")


if __name__ == "__main__":
    main()
