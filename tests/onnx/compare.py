"""Compares kiln's output with a reference (PyTorch's, or kiln's own before a
round trip): max |kiln - reference| / max(1, |reference|) <= TOL.

    python3 compare.py KILN.npy REFERENCE.npy TOL
"""
import sys

import numpy as np

kiln, reference, tol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
if kiln.shape != reference.shape:
    sys.exit(f"{sys.argv[1]}: shape {kiln.shape}, {sys.argv[2]}'s {reference.shape}")
error = float(np.max(np.abs(kiln - reference) / np.maximum(1, np.abs(reference))))
print(f"{sys.argv[1]}: largest relative difference from {sys.argv[2]} {error:.2e} (tolerance {tol:g})")
sys.exit(0 if error <= tol else 1)
