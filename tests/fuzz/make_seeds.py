#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ that are not copies of
tests/errors/inputs (run tests/errors/make_inputs.py first):
    python3 tests/fuzz/make_seeds.py"""
import os
import random
import shutil
import struct
import subprocess
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
errors = os.path.join(here, "..", "errors")


def write(target, name, data):
    os.makedirs(os.path.join(here, "corpus", target), exist_ok=True)
    with open(os.path.join(here, "corpus", target, name), "wb") as f:
        f.write(data)


def copy(target, path):
    write(target, os.path.basename(path), open(path, "rb").read())


inputs = os.path.join(errors, "inputs")
for name in ["model.kiln", "truncated.kiln", "bitflip.kiln"]:
    copy("graph_binary", os.path.join(inputs, name))
copy("graph_text", os.path.join(inputs, "model.kiln.txt"))
for case in ["graph-cycle", "graph-dtype-mismatch", "graph-constant-short-data", "graph-matmul-shapes"]:
    write("graph_text", case + ".kiln.txt", open(os.path.join(errors, case, "model.kiln.txt"), "rb").read())
for name in ["good.ckpt", "truncated.ckpt", "swapped.ckpt", "wrong_shape.ckpt"]:
    copy("checkpoint", os.path.join(inputs, name))
for name in ["x.npy", "x_f64.npy", "x_truncated.npy"]:
    copy("npy", os.path.join(inputs, name))
write("npy", "bool_scalar.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) +
      b"{'descr': '|b1', 'fortran_order': False, 'shape': (), }".ljust(117) + b"\n" + b"\x01")
# CSV: the first byte picks the dtype (f32, f64, i32, i64, bool).
write("csv", "floats.csv", b"\x00x,y\n1.5,-2\n3e4,nan\n")
write("csv", "ints.csv", b"\x02 1, 2\r\n-3,+4\n")
write("csv", "bools.csv", b"\x04true,0\n1,false\n")
# IDX: the first byte is the item limit.
def idx(dims, data):
    return b"\x00\x00\x08" + bytes([len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data
write("idx", "labels.idx", b"\x00" + idx([4], bytes([0, 1, 2, 9])))
write("idx", "images.idx", b"\x01" + idx([2, 2, 3], bytes(range(12))))
write("idx", "truncated.idx", b"\x00" + idx([3, 4], bytes(range(5))))
# The builder reads choices from bytes: any bytes are a graph.
rng = random.Random(12)
for i in range(4):
    write("graph_builder", f"random{i}", bytes(rng.randrange(256) for _ in range(64 + 64 * i)))
# The listing form: the input of every case of the pass tests (tests/passes/).
passes = os.path.join(here, "..", "passes")
for name in sorted(os.listdir(passes)):
    cases = open(os.path.join(passes, name)).read().split("\n=== ")[1:]
    for i, case in enumerate(cases):
        lines = case.split("\n")[1:]
        lines = lines[: next(k for k, l in enumerate(lines) if l in ("--- expected", "--- unchanged"))]
        text = "\n".join(l for l in lines if not l.startswith("--- roots: ")) + "\n"
        write("listing", f"{name[:-4]}-{i}.txt", text.encode())
# ONNX: the first byte picks --trainable (odd: on). The hand-made models of
# tests/onnx (python3-onnx) and small PyTorch exports (python3-torch): the
# shape computations of LayerNorm + GELU, an embedding and a concat, a GRU.
with tempfile.TemporaryDirectory() as tmp:
    onnx_tests = os.path.join(here, "..", "onnx")
    subprocess.run(["/usr/bin/python3", os.path.join(onnx_tests, "make_bad_models.py"), tmp], check=True)
    subprocess.run(["/usr/bin/python3", os.path.join(onnx_tests, "make_zoo.py"), tmp,
                    "layernorm_gelu_14", "embedding_cat", "gru"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    for i, name in enumerate(["names", "unbuildable", "unsupported", "layernorm_gelu_14", "embedding_cat", "gru"]):
        write("onnx_model", name + ".onnx", bytes([i % 2]) + open(os.path.join(tmp, name + ".onnx"), "rb").read())
