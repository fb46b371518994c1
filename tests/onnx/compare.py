"""Compares kiln's output with PyTorch's: max |kiln - torch| / max(1, |torch|) <= TOL.

    python3 compare.py KILN.npy TORCH.npy TOL
"""
import sys

import numpy as np

kiln, torch, tol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
if kiln.shape != torch.shape:
    sys.exit(f"{sys.argv[1]}: shape {kiln.shape}, PyTorch's {torch.shape}")
error = float(np.max(np.abs(kiln - torch) / np.maximum(1, np.abs(torch))))
print(f"{sys.argv[1]}: largest relative difference from PyTorch {error:.2e} (tolerance {tol:g})")
sys.exit(0 if error <= tol else 1)
