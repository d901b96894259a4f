"""Shared helpers for the low-rank family part B generators (hydra, mos, mola, corda).

Our own code (not the authors'): a minimal safetensors writer, a JSON writer, module stubs for
heavy imports the authors' files pull in, and the provenance record. See tools/refgen/CONVENTION.md.
"""

import datetime
import json
import os
import struct
import subprocess
import sys
import types

import torch

_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}


def deterministic(seed=0):
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(seed)


def write_safetensors(path, tensors):
    """tensors: dict name -> torch tensor (float32 / int64 / int32). Keys written sorted."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in _DTYPES:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        assert sys.byteorder == "little"
        data = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)  # pad with spaces to 8-byte alignment (allowed by the format)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def tensor_list(tensors, meanings):
    """[{name, shape, dtype, meaning}] for case.json; every stored tensor must have a meaning."""
    out = []
    for name in sorted(tensors):
        if name not in meanings:
            raise KeyError(f"no meaning written for tensor {name}")
        t = tensors[name]
        out.append({"name": name, "shape": list(t.shape), "dtype": _DTYPES[t.dtype], "meaning": meanings[name]})
    extra = set(meanings) - set(tensors)
    if extra:
        raise KeyError(f"meanings for tensors that are not stored: {sorted(extra)}")
    return out


def git_head(repo):
    try:
        return subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except Exception:
        return None


def check_commit(repo, pinned):
    head = git_head(repo)
    if head is not None and head != pinned:
        raise SystemExit(f"{repo} is at {head}, the generator is pinned to {pinned}")
    return pinned


def stub_module(name, **attrs):
    """Insert a fake module (and its parents) into sys.modules, with the given attributes."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sub = ".".join(parts[:i])
        if sub not in sys.modules:
            m = types.ModuleType(sub)
            m.__path__ = []  # make it a package so that submodules import
            sys.modules[sub] = m
            if i > 1:
                setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], m)
    mod = sys.modules[name]
    for k, v in attrs.items():
        setattr(mod, k, v)
    return mod


def provenance(method, paper, repository, commit, files_used, objects_used, out_dir, notes):
    rel_out = os.path.relpath(os.path.abspath(out_dir), os.getcwd())
    return {
        "method": method,
        "paper": paper,
        "repository": repository,
        "commit": commit,
        "files_used": files_used,
        "objects_used": objects_used,
        "command": f"/usr/bin/python3 tools/refgen/{method}.py --repo <checkout> --out {rel_out}",
        "torch": torch.__version__,
        "date": os.environ.get("REFGEN_DATE", datetime.date.today().isoformat()),
        "notes": notes,
    }


DEFAULT_TOL = {"rtol": 1e-4, "atol": 1e-5, "rule": "|a-b| <= 1e-4*|b| + 1e-5"}
