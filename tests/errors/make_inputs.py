#!/usr/bin/env python3
"""Writes the generated inputs of tests/errors/ (binary models, .npy feeds,
checkpoints) from inputs/model.kiln.txt. Run after a change to a file format:
    python3 tests/errors/make_inputs.py build/kiln
then KILN_UPDATE_ERRORS=1 ./build/kiln_tests '[errors]' and review the diff.
No NumPy or protobuf module needed: the formats are written byte by byte."""
import os
import struct
import subprocess
import sys
import zlib

here = os.path.dirname(os.path.abspath(__file__))
inputs = os.path.join(here, "inputs")
kiln = sys.argv[1]


def write(name, data):
    with open(os.path.join(inputs, name), "wb") as f:
        f.write(data)


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def read_varint(data, at):
    n = shift = 0
    while True:
        b = data[at]
        at += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, at


def field(number, payload):  # length-delimited
    return varint(number << 3 | 2) + varint(len(payload)) + payload


# --- binary models, from the text model through the CLI ---
model = os.path.join(inputs, "model.kiln")
subprocess.run([kiln, "dump", os.path.join(inputs, "model.kiln.txt"), "-f", "proto", "-o", model],
               check=True)
good = open(model, "rb").read()
# Field boundaries: format_version (varint), then one length-delimited field per node.
ends, at = [], 0
while at < len(good) - 5:
    tag, at = read_varint(good, at)
    if tag & 7 == 0:
        _, at = read_varint(good, at)
    else:
        length, at = read_varint(good, at)
        at += length
    ends.append(at)
write("truncated.kiln", good[: ends[5]])  # the version and 5 of the 10 nodes
bias = struct.pack("<4f", 1, 2, 3, 4)
flipped = bytearray(good)
flipped[good.index(bias) + 6] ^= 0x01  # 3.0 -> 3.0000002
write("bitflip.kiln", bytes(flipped))

# --- .npy feeds ---
def npy(descr, shape, data):
    dims = "".join(f"{d}," for d in shape) if len(shape) == 1 else ", ".join(map(str, shape))
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}"
    header += " " * ((64 - (len(header) + 11) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data

write("x.npy", npy("<f4", (2, 4), struct.pack("<8f", *range(8))))
write("x_f64.npy", npy("<f8", (2, 4), struct.pack("<8d", *range(8))))
write("x_wide.npy", npy("<f4", (2, 5), struct.pack("<10f", *range(10))))
write("x_truncated.npy", npy("<f4", (2, 4), struct.pack("<8f", *range(8)))[:-6])
# A header claiming 16 GiB over 32 bytes of data.
write("x_huge.npy", npy("<f4", (1 << 30, 4), struct.pack("<8f", *range(8))))
write("header_only.csv", b"a,b,c,d\n")

# --- checkpoints (ir/kiln.proto: Checkpoint; format 2 checksums) ---
def entry(name, values, elements=None):  # claiming `elements` if given
    elements = elements or len(values)
    data = struct.pack(f"<{len(values)}f", *values)
    shape = struct.pack("<q", elements)
    crc = zlib.crc32(data, zlib.crc32(shape, zlib.crc32(struct.pack("<i", 1),
                                                        zlib.crc32(name + b"\0"))))
    tensor = varint(1 << 3) + varint(1) + field(2, varint(elements)) + field(3, data)
    return field(1, name) + field(2, tensor) + varint(3 << 3 | 5) + struct.pack("<I", crc)

def checkpoint(entries):
    return varint(1 << 3) + varint(2) + b"".join(field(2, e) for e in entries)

w, v = entry(b"w", [1, 2, 3, 4]), entry(b"v", [5, 6, 7, 8])
write("good.ckpt", checkpoint([w, v]))
write("truncated.ckpt", checkpoint([w, v])[:-9])
swapped = [entry(b"w", [1, 2, 3, 4]), entry(b"v", [5, 6, 7, 8])]
# The names swapped, the checksums left: what a damaged index looks like.
swapped[0] = swapped[0].replace(field(1, b"w"), field(1, b"v"), 1)
swapped[1] = swapped[1].replace(field(1, b"v"), field(1, b"w"), 1)
write("swapped.ckpt", checkpoint(swapped))
write("wrong_shape.ckpt", checkpoint([entry(b"w", [1, 2, 3]), v]))
# Sizes claimed past the bytes present: an entry of 2^30 elements holding 4,
# and a length prefix of 1 GiB over a few bytes.
write("huge_entry.ckpt", checkpoint([entry(b"w", [1, 2, 3, 4], 1 << 30), v]))
write("lying_length.ckpt", varint(1 << 3) + varint(2) + varint(2 << 3 | 2) + varint(1 << 30) + w)

# --- binary models claiming more than they hold (format 2: checksummed) ---
def binary_graph(nodes):
    body = varint(1 << 3) + varint(2) + nodes
    return body + bytes([15 << 3 | 5]) + struct.pack("<I", zlib.crc32(body))

def attr(key, value):
    return field(1, key) + field(2, value)

huge = varint(1 << 3) + varint(1) + field(2, varint(1 << 30)) + field(3, bias)
write("huge_constant.kiln",
      binary_graph(field(2, field(1, b"c") + field(2, b"constant") +
                                field(4, attr(b"value", field(8, huge))))))
write("lying_length.kiln", binary_graph(varint(2 << 3 | 2) + varint(1 << 30) + field(1, b"c")))

# --- a text model nested deeper than the parser's limit (it segfaulted) ---
levels = 450  # 4 protobuf messages each: 1,800 levels
deep = 'nodes { name: "f" op: "fusion" attrs { key: "body" value { graph { ' * levels
write("deep.kiln.txt", b"format_version: 2 " + deep.encode() + b"} } } } " * levels)
