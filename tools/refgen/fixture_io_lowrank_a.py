"""Shared helpers for the low-rank-family (part A) reference generators:
nola.py, loldu.py, flora.py, triadaptlora.py, increlora.py.

Our own code (no authors' code here): a safetensors writer/reader, JSON writers,
checks that the authors' checkout holds the pinned file versions, sys.modules stubs
for heavy imports, and the fixture tolerance.

Conventions: tools/refgen/CONVENTION.md (fixture layout, tolerance, determinism).
"""
import datetime
import hashlib
import json
import os
import struct
import sys
import types

import numpy as np
import torch

RTOL = 1e-4
ATOL = 1e-5
TOLERANCE = {"rule": "|a-b| <= rtol*|b| + atol", "rtol": RTOL, "atol": ATOL}

_DTYPES = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64"}
_NP = {"F32": "<f4", "I32": "<i4", "I64": "<i8"}


def setup_determinism(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)


def blob_sha1(path):
    """git blob id of a file (what `git ls-tree` prints)."""
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def check_checkout(repo, pinned_blobs):
    """Fail unless every file the generator imports is byte-identical to the pinned commit's."""
    for rel, want in pinned_blobs.items():
        p = os.path.join(repo, rel)
        if not os.path.isfile(p):
            raise SystemExit(f"--repo {repo}: missing {rel}")
        got = blob_sha1(p)
        if got != want:
            raise SystemExit(f"--repo {repo}: {rel} is blob {got}, pinned commit has {want}")


def stub(name, **attrs):
    """Register a minimal fake module (and its parents) in sys.modules."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sub = ".".join(parts[:i])
        if sub not in sys.modules:
            m = types.ModuleType(sub)
            m.__path__ = []  # lets `import a.b` work for stub packages
            sys.modules[sub] = m
            if i > 1:
                setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], m)
    mod = sys.modules[name]
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def package_shell(name, path):
    """A package module whose __init__ is NOT executed but whose submodules load from `path`."""
    m = types.ModuleType(name)
    m.__path__ = [path]
    sys.modules[name] = m
    if "." in name:
        parent, child = name.rsplit(".", 1)
        setattr(sys.modules[parent], child, m)
    return m


def as_f32(t):
    t = t.detach().cpu()
    if t.dtype == torch.float64:
        raise TypeError("float64 tensor given; fixtures store float32")
    return t.contiguous()


def write_safetensors(path, tensors):
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = as_f32(tensors[name])
        if t.dtype not in _DTYPES:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        code = _DTYPES[t.dtype]
        b = np.ascontiguousarray(t.numpy().astype(_NP[code])).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        b, e = meta["data_offsets"]
        arr = np.frombuffer(data[base + b : base + e], dtype=_NP[meta["dtype"]]).reshape(meta["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def tensor_table(tensors, meanings):
    missing = sorted(set(tensors) - set(meanings))
    extra = sorted(set(meanings) - set(tensors))
    if missing or extra:
        raise KeyError(f"tensor meanings out of sync: missing={missing} extra={extra}")
    return [
        {"name": k, "dtype": _DTYPES[tensors[k].dtype], "shape": list(tensors[k].shape), "meaning": meanings[k]}
        for k in sorted(tensors)
    ]


def assert_close(name, got, want, atol=ATOL):
    """Self-check with the fixture tolerance (got: our re-computation from stored tensors, want: authors' output)."""
    got = got.detach().double()
    want = want.detach().double()
    if got.shape != want.shape:
        raise AssertionError(f"{name}: shape {tuple(got.shape)} != {tuple(want.shape)}")
    bad = (got - want).abs() > RTOL * want.abs() + atol
    if bool(bad.any()):
        raise AssertionError(f"{name}: max |diff| {float((got - want).abs().max())}")


def provenance(method, paper, repository, commit, files_used, objects_used, notes, pinned_blobs, repo_arg):
    return {
        "method": method,
        "paper": paper,
        "repository": repository,
        "commit": commit,
        "files_used": files_used,
        "file_blob_ids": pinned_blobs,
        "objects_used": objects_used,
        "command": f"/usr/bin/python3 tools/refgen/{method}.py --repo {repo_arg} --out test/fixtures/reference/{method}",
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "notes": notes,
    }


def write_fixture(out, prov, case, tensors, meanings):
    os.makedirs(out, exist_ok=True)
    case = dict(case)
    case["tensors"] = tensor_table(tensors, meanings)
    case.setdefault("tolerance", TOLERANCE)
    write_json(os.path.join(out, "provenance.json"), prov)
    write_json(os.path.join(out, "case.json"), case)
    st = os.path.join(out, "tensors.safetensors")
    write_safetensors(st, tensors)
    back = read_safetensors(st)
    for k, v in tensors.items():
        if not torch.equal(back[k], as_f32(v)):
            raise AssertionError(f"safetensors round trip failed for {k}")
    size = os.path.getsize(st)
    if size > 300 * 1024:
        raise AssertionError(f"tensors.safetensors is {size} bytes (> 300 KB)")
    return size
