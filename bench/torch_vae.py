"""The PyTorch peer of examples/fashion_vae.cpp (bench/vae.sh): the same
variational autoencoder (encoder 784-512-(mu, log_var) of a 20-dim latent,
decoder 20-512-784 of Bernoulli logits; Glorot-uniform weights, zero biases),
loss the negative ELBO per image (pixels' binary cross-entropy summed plus
KL(q(z|x) || N(0, 1))), Adam at 1e-3, batch 128 reshuffled each epoch, the
last partial batch dropped. Prints the test ELBO (nats per image, one z
sample per image) and the training loop's seconds, as fashion_vae does:
    test ELBO <e> nats per image after <n> epochs, <s> s of training

    python3 torch_vae.py --epochs 10 --threads 2
"""
import argparse
import time

from fashion_train import idx
from torch_threads import torch_with_threads


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch = torch_with_threads(a.threads)
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(a.seed)

    def dense(n_in, n_out):
        layer = nn.Linear(n_in, n_out)
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
        return layer

    encoder, mu, log_var = dense(784, 512), dense(512, 20), dense(512, 20)
    decoder = nn.Sequential(dense(20, 512), nn.ReLU(), dense(512, 784))
    params = [*encoder.parameters(), *mu.parameters(), *log_var.parameters(),
              *decoder.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)

    def loss_of(x):
        h = F.relu(encoder(x))
        m, lv = mu(h), log_var(h)
        z = m + torch.exp(0.5 * lv) * torch.randn_like(m)
        bce = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(1)
        kl = 0.5 * (torch.exp(lv) + m * m - 1 - lv).sum(1)
        return (bce + kl).mean()

    x = torch.tensor(idx("train-images-idx3-ubyte"), dtype=torch.float32).div_(255).reshape(-1, 784)
    tx = torch.tensor(idx("t10k-images-idx3-ubyte"), dtype=torch.float32).div_(255).reshape(-1, 784)
    start = time.perf_counter()
    for _ in range(a.epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x) - 127, 128):
            loss = loss_of(x[order[i:i + 128]])
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        test = sum(loss_of(tx[i:i + 1000]).item() * 1000 for i in range(0, len(tx), 1000))
    print(f"test ELBO {-test / len(tx):.1f} nats per image after {a.epochs} epochs, "
          f"{seconds:.1f} s of training")


if __name__ == "__main__":
    main()
