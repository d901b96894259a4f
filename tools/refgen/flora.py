#!/usr/bin/env python3
"""FLoRA reference fixture, computed by the authors' code (SJTU-DeepVisionLab/FLoRA, pinned below).

Authors' objects that run here (flora/flora.py, flora/layers.py):
  FLoRA (wraps a model, freezes it, swaps nn.Linear / nn.Conv2d for FLoRA blocks),
  layers.Linear / layers.Conv2D (base output + F.linear / F.conv2d with the generated delta weight),
  FLoRALayer (core tensor param_G, factor matrices param_i, init_parameters, forward = Tucker product).
Our code builds the tiny base models and inputs, sets param_G (zero at init), and writes/self-checks the fixture.

usage: /usr/bin/python3 tools/refgen/flora.py --repo ../refs/src/flora --out test/fixtures/reference/flora
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io_lowrank_a as io  # noqa: E402

REPOSITORY = "SJTU-DeepVisionLab/FLoRA"
COMMIT = "d424560e801b72fa06e2f19957514b7c7f2816df"
PINNED = {
    "flora/__init__.py": "92b919e93230555c071954b22a241b2e3d12528b",
    "flora/flora.py": "ecfd0ee8be9f6181a2fdfd749bfc2fc0bb50ae89",
    "flora/layers.py": "93c9d5393997e706383d57fcb6e8a04836b57ecb",
}
LIN = {"in": 16, "out": 12, "n": 5, "r": [4, 3], "scale": 2.0}
CONV = {"in": 4, "out": 6, "k": 3, "stride": 1, "padding": 1, "batch": 2, "hw": 5, "r": [3, 4, 2, 2], "scale": 4.0}


class Holder(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


def tucker_delta(G, factors, scale):
    """Our reading of FLoRALayer.forward: mode-i product of G with factor i, then swap (in, out) -> (out, in)."""
    letters = "pqst"[: G.dim()]
    idx = "ijkl"[: G.dim()]
    expr = letters + "," + ",".join(idx[d] + letters[d] for d in range(G.dim())) + "->" + idx
    full = torch.einsum(expr, G, *factors)  # [in, out, k, k]
    return scale * full.transpose(0, 1)


def run(flora_pkg, tag, base, cfg, x, G_up, cls_type, T, M):
    p = tag + "."
    model = Holder(base)
    W = base.weight.detach().clone()
    bias = base.bias.detach().clone()
    flora_cfg = {"N": len(cfg["r"]), "r": list(cfg["r"]), "scale": cfg["scale"], "drop_rate": 0.0}
    wrapped = flora_pkg.FLoRA(model, target_keys=[], base_name="model", cls_types=[cls_type], flora_cfg=flora_cfg)
    blk = wrapped.model.layer
    fl = blk.flora_layer
    N = fl.N
    trainable = {n: q for n, q in wrapped.named_parameters() if q.requires_grad}
    want = sorted(["model.layer.flora_layer.param_G"] + [f"model.layer.flora_layer.param_{i}" for i in range(N)])
    assert sorted(trainable) == want, sorted(trainable)
    assert float(fl.param_G.abs().sum()) == 0
    factors0 = [getattr(fl, f"param_{i}").detach().clone() for i in range(N)]
    with torch.no_grad():
        y_init = wrapped(x)
    torch.manual_seed(7)
    with torch.no_grad():  # the core is zero at init; set it so the update shows
        fl.param_G.copy_(0.1 * torch.randn(fl.param_G.shape))
    y = wrapped(x)
    (y * G_up).sum().backward()
    with torch.no_grad():
        delta = blk.get_new_weight()
    grads = {"grad_G": fl.param_G.grad.clone()}
    for i in range(N):
        grads[f"grad_param_{i}"] = getattr(fl, f"param_{i}").grad.clone()

    # self-check of the README recipe
    Gd = fl.param_G.detach().double().requires_grad_(True)
    Fd = [f.double().requires_grad_(True) for f in factors0]
    dd = tucker_delta(Gd, Fd, cfg["scale"])
    if cls_type == "linear":
        yd = F.linear(x.double(), W.double(), bias.double()) + F.linear(x.double(), dd)
    else:
        kw = dict(stride=cfg["stride"], padding=cfg["padding"])
        yd = F.conv2d(x.double(), W.double(), bias.double(), **kw) + F.conv2d(x.double(), dd, **kw)
    (yd * G_up.double()).sum().backward()
    io.assert_close(p + "delta_w", dd, delta)
    io.assert_close(p + "y", yd, y)
    io.assert_close(p + "grad_G", Gd.grad, grads["grad_G"])
    for i in range(N):
        io.assert_close(p + f"grad_param_{i}", Fd[i].grad, grads[f"grad_param_{i}"])
    base_only = F.linear(x, W, bias) if cls_type == "linear" else F.conv2d(x, W, bias, stride=cfg["stride"], padding=cfg["padding"])
    io.assert_close(p + "y_init", base_only, y_init)

    dims = fl.dims
    T.update({p + "W": W, p + "bias": bias, p + "x": x, p + "G": G_up, p + "param_G": fl.param_G,
              p + "y_init": y_init, p + "y": y, p + "delta_w": delta, p + "merged_w": W + delta})
    M.update({
        p + "W": "frozen base weight " + ("[out, in]" if cls_type == "linear" else "[out, in, kh, kw]"),
        p + "bias": "frozen base bias [out]",
        p + "x": "input " + ("[n, in]" if cls_type == "linear" else "[batch, in, H, W] (NCHW)"),
        p + "G": "upstream gradient: loss L = sum(y * G)",
        p + "param_G": f"core tensor G {list(fl.r)} (zeros at init; set to 0.1*randn here)",
        p + "y_init": "output at init (G = 0): the base layer's output",
        p + "y": "base(x) + " + ("F.linear(x, delta_w)" if cls_type == "linear" else "F.conv2d(x, delta_w, stride, padding) (same stride/padding/dilation/groups as the base conv)"),
        p + "delta_w": "FLoRALayer.forward(): scale * (G x_1 param_0 x_2 param_1 ...) transposed to the base weight layout",
        p + "merged_w": "W + delta_w (our merge; the authors' merge is a TODO)",
    })
    for i in range(N):
        T[p + f"param_{i}"] = factors0[i]
        T[p + f"grad_param_{i}"] = grads[f"grad_param_{i}"]
        role = ["in (fan-in)", "out", "kernel height", "kernel width"][i]
        M[p + f"param_{i}"] = f"factor matrix param_{i} [dims[{i}]={dims[i]} ({role}), r[{i}]={fl.r[i]}], kaiming_normal_(a=sqrt(3)) => N(0, 1/(2*r[{i}]))"
        M[p + f"grad_param_{i}"] = f"dL/d param_{i}"
    T[p + "grad_G"] = grads["grad_G"]
    M[p + "grad_G"] = "dL/d param_G"
    count = sum(q.numel() for q in trainable.values())
    formula = 1
    for r in fl.r:
        formula *= r
    formula += sum(d * r for d, r in zip(dims, fl.r))
    assert count == formula
    out = {k: v for k, v in cfg.items()}
    out.update({"dims": list(dims), "N": N, "trainable_parameters": count, "loss": float((y * G_up).sum())})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    io.check_checkout(args.repo, PINNED)
    io.setup_determinism(0)
    sys.path.insert(0, args.repo)
    import flora as flora_pkg  # flora/__init__.py -> flora/flora.py -> flora/layers.py

    T, M = {}, {}
    torch.manual_seed(20)
    lin = nn.Linear(LIN["in"], LIN["out"])
    x = torch.randn(LIN["n"], LIN["in"])
    Gu = torch.randn(LIN["n"], LIN["out"])
    torch.manual_seed(21)  # FLoRALayer draws randn for every param, then init_parameters redraws the factors
    lin_cfg = run(flora_pkg, "linear", lin, LIN, x, Gu, "linear", T, M)

    torch.manual_seed(30)
    conv = nn.Conv2d(CONV["in"], CONV["out"], CONV["k"], stride=CONV["stride"], padding=CONV["padding"])
    xc = torch.randn(CONV["batch"], CONV["in"], CONV["hw"], CONV["hw"])
    Hout = (CONV["hw"] + 2 * CONV["padding"] - CONV["k"]) // CONV["stride"] + 1
    Gc = torch.randn(CONV["batch"], CONV["out"], Hout, Hout)
    torch.manual_seed(31)
    conv_cfg = run(flora_pkg, "conv", conv, CONV, xc, Gc, "conv2d", T, M)

    case = {
        "method": "flora",
        "cases": {"linear": lin_cfg, "conv": conv_cfg},
        "trainable_formula": "prod(r) + sum_i dims[i] * r[i], dims = [in, out] (linear) or [in, out, kh, kw] (conv2d)",
        "dtype": "float32",
        "seeds": "linear: manual_seed(20) base/x/G, 21 FLoRA init, 7 param_G; conv: 30, 31, 7",
    }
    notes = (
        "Refactored release (2024-07-04; README says the core is the same as the paper's code). delta W = scale * "
        "G x_1 P0 x_2 P1 (x_3 P2 x_4 P3) with dims ordered [in, out, kh, kw], then transpose(0,1) to [out, in, ...]; "
        "G zero at init, factors kaiming_normal_(a=sqrt(3)); base layer frozen; dropout on the FLoRA branch input (0 here)."
    )
    prov = io.provenance("flora", "FLoRA: Low-Rank Core Space for N-dimension (Si et al., 2024)", REPOSITORY, COMMIT,
                         sorted(PINNED), ["FLoRA", "Linear", "Conv2D", "BaseFLoRA", "FLoRALayer"], notes, PINNED, args.repo)
    size = io.write_fixture(args.out, prov, case, T, M)
    print(f"flora: wrote {args.out} ({size} bytes of tensors)")


if __name__ == "__main__":
    main()
