"""PyTorch at its best on a few cores, for the bench/ peers: import torch
through torch_with_threads(n), which sets the thread counts first (Debian's
torch calls the system OpenBLAS, which reads its count when loaded) and
OpenMP's passive waiting (its default spin-waiting is 3-5x slower on 2 vCPUs)."""
import os


def torch_with_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    torch.set_num_threads(n)
    torch.set_num_interop_threads(1)
    return torch
