"""Compares kiln's output with a reference (PyTorch's, or kiln's own before a
round trip): max |kiln - reference| / max(1, |reference|) <= TOL. With
`scaled`, the error is relative to the largest |reference| instead (for
outputs far below 1, as an untrained deep network gives), and the reference
must vary over the batch: a model whose output ignores its input would make a
test that cannot fail.

    python3 compare.py KILN.npy REFERENCE.npy TOL [scaled]
"""
import sys

import numpy as np

kiln, reference, tol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
scaled = sys.argv[4:] == ["scaled"]
if kiln.shape != reference.shape:
    sys.exit(f"{sys.argv[1]}: shape {kiln.shape}, {sys.argv[2]}'s {reference.shape}")
if scaled:
    scale = float(np.max(np.abs(reference)))
    if scale == 0 or np.array_equal(reference[0], reference[-1]):
        sys.exit(f"{sys.argv[2]}: the reference does not vary over the batch (largest |value| {scale:.2e})")
    error = float(np.max(np.abs(kiln - reference))) / scale
    what = "difference relative to the largest |reference|"
else:
    error = float(np.max(np.abs(kiln - reference) / np.maximum(1, np.abs(reference))))
    what = "relative difference"
print(f"{sys.argv[1]}: largest {what} from {sys.argv[2]} {error:.2e} (tolerance {tol:g})")
sys.exit(0 if error <= tol else 1)
