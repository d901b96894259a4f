"""Shared helpers for the selective / sparse fine-tuning reference generators
(sara.py, r_amt.py, spt.py, mosa.py).

Our own code (nothing here comes from an authors' repository): a minimal safetensors
writer/reader, JSON helpers, the determinism settings, a stub-module maker for
imports that are not installed here, and the provenance writer.
"""
import datetime
import json
import os
import struct
import subprocess
import sys
import types

import numpy as np

DTYPES = {np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}


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
    # always copy: torch tensors updated in place later must not alter what we recorded
    return np.array(a, copy=True, order="C")


class TensorBag:
    """Collects named tensors plus a human description for case.json."""

    def __init__(self):
        self.tensors = {}
        self.meaning = {}

    def add(self, name, value, meaning):
        if name in self.tensors:
            raise KeyError(f"duplicate tensor name {name}")
        a = to_numpy(value)
        if a.dtype not in DTYPES:
            raise TypeError(f"{name}: unsupported dtype {a.dtype}")
        self.tensors[name] = a
        self.meaning[name] = meaning
        return a

    def listing(self):
        return [{"name": k, "dtype": DTYPES[self.tensors[k].dtype],
                 "shape": list(self.tensors[k].shape), "meaning": self.meaning[k]}
                for k in sorted(self.tensors)]

    def nbytes(self):
        return sum(a.nbytes for a in self.tensors.values())


def write_safetensors(path, tensors):
    """tensors: dict name -> numpy array. Names written sorted, data packed in that order."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = to_numpy(tensors[name])
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


def git_head(repo):
    """Commit of the authors' checkout: .git if present, else the PINNED file we write next to it."""
    try:
        out = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        if len(out) == 40:
            return out
    except Exception:
        pass
    pinned = os.path.join(repo, "PINNED_COMMIT")
    if os.path.exists(pinned):
        return open(pinned).read().split()[0]
    return None


def stub_module(name, **attrs):
    """Insert a minimal fake module into sys.modules (for imports not installed here)."""
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    mod.__stub__ = True
    sys.modules[name] = mod
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, mod)
    return mod


def write_fixture(out, *, method, paper, repository, commit, files_used, objects_used, command,
                  notes, case, bag, readme):
    import torch
    os.makedirs(out, exist_ok=True)
    size = bag.nbytes()
    if size > 300 * 1024:
        raise SystemExit(f"fixture too large: {size} bytes")
    write_safetensors(os.path.join(out, "tensors.safetensors"), bag.tensors)
    case = dict(case)
    case["tensors"] = bag.listing()
    write_json(os.path.join(out, "case.json"), case)
    prov = {"method": method, "paper": paper, "repository": repository, "commit": commit,
            "files_used": files_used, "objects_used": objects_used, "command": command,
            "torch": torch.__version__, "date": os.environ.get("REFGEN_DATE",
                                                               datetime.date.today().isoformat()),
            "notes": notes}
    write_json(os.path.join(out, "provenance.json"), prov)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme)
