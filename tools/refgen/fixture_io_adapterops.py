"""Shared writer for the adapter-operation reference generators (PCB, ComPEFT, ...).

Our own code (not from any authors' repository): a minimal safetensors writer, JSON
helpers, and the determinism settings every generator uses.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("int64"): "I64",
          np.dtype("uint8"): "U8"}


def setup_torch(seed=0):
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    return torch


def to_numpy(t):
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    a = np.asarray(t)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    if a.dtype == np.bool_:
        a = a.astype(np.int32)
    return np.ascontiguousarray(a)


def write_safetensors(path, tensors):
    """tensors: dict name -> array-like. Names are written sorted, data packed in that order."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = to_numpy(tensors[name])
        if a.dtype not in DTYPES:
            raise TypeError(f"{name}: unsupported dtype {a.dtype}")
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    inv = {v: k for k, v in DTYPES.items()}
    out = {}
    for name, m in header.items():
        b, e = m["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=inv[m["dtype"]].newbyteorder("<")).reshape(m["shape"])
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write("\n")


def git_commit(repo):
    import subprocess
    try:
        return subprocess.check_output(["git", "-C", repo, "rev-parse", "HEAD"], text=True).strip()
    except Exception:
        return "unknown"


def tensor_list(tensors, meaning):
    """case.json 'tensors' list: name, shape, dtype, meaning."""
    rows = []
    for name in sorted(tensors):
        a = to_numpy(tensors[name])
        rows.append({"name": name, "shape": list(a.shape), "dtype": DTYPES[a.dtype],
                     "meaning": meaning.get(name, "")})
    missing = [k for k in tensors if k not in meaning]
    if missing:
        print("warning: no meaning for", missing, file=sys.stderr)
    return rows


DEFAULT_TOL = {"rtol": 1e-4, "atol": 1e-5, "rule": "|a-b| <= rtol*|b| + atol"}
