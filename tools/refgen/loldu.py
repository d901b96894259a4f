#!/usr/bin/env python3
"""LoLDU reference fixture, computed by the authors' code (SKDDJ/LoLDU, pinned below).

Authors' objects that run here (minloldu/loldu.py, minloldu/loldu_utils.py):
  add_loldu (torch parametrize registration) -> LoLDUParametrization.from_linear -> _update_weights_once
  -> get_residual_matrix -> ldu_decomposition; loldu_forward; get_loldu_params / name_is_loldu; merge_loldu.
`lightning` (their base class pl.LightningModule) is not installed: stubbed as torch.nn.Module.
Our code builds the nn.Linear, inputs, perturbs vector_z, and writes/self-checks the fixture.

usage: /usr/bin/python3 tools/refgen/loldu.py --repo ../refs/src/loldu --out test/fixtures/reference/loldu
"""
import argparse
import os
import sys
from functools import partial

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io_lowrank_a as io  # noqa: E402

REPOSITORY = "SKDDJ/LoLDU"
COMMIT = "4fe87a05a668006f55153539cece7fffa91ed91d"
PINNED = {
    "minloldu/__init__.py": "48557fe058af610921a1c6b4ef1b82aa4a514bbb",
    "minloldu/loldu.py": "1eb0583f3339b061cc52941cff8713d95d94a56f",
    "minloldu/loldu_utils.py": "ee7b674c1daf7d8a085ecd83f10216f91e17a725",
}
RANK = 4
N = 5
CASES = {"wide": (16, 12), "tall": (12, 20)}  # (in_features, out_features)


def import_authors(repo):
    io.stub("lightning", LightningModule=nn.Module)
    sys.path.insert(0, repo)
    import minloldu

    return minloldu


def run_case(minloldu, tag, fan_in, fan_out, seed, T, M):
    p = tag + "."
    torch.manual_seed(seed)
    layer = nn.Linear(fan_in, fan_out)
    W = layer.weight.detach().clone()
    bias = layer.bias.detach().clone()
    x = torch.randn(N, fan_in)
    G = torch.randn(N, fan_out)

    cfg = {nn.Linear: {"weight": partial(minloldu.LoLDUParametrization.from_linear, rank=RANK)}}
    minloldu.add_loldu(layer, loldu_config=cfg)  # registration runs the forward pre-hook -> LDU init
    par = layer.parametrizations.weight[0]
    residual = layer.parametrizations.weight.original
    P, Lr, Ur = par.P.detach().clone(), par.lora_B.detach().clone(), par.lora_A.detach().clone()
    z0 = par.vector_z.detach().clone()
    s0 = par.scaling_factor.detach().clone()
    residual0 = residual.detach().clone()
    with torch.no_grad():
        y_init = layer(x)

    # requires_grad as the module leaves it, then the README recipe (freeze all, enable get_loldu_params)
    default_trainable = sorted(n for n, q in layer.named_parameters() if q.requires_grad)
    for q in layer.parameters():
        q.requires_grad = False
    for q in minloldu.get_loldu_params(layer):
        q.requires_grad = True
    recipe_trainable = sorted(n for n, q in layer.named_parameters() if q.requires_grad)
    recipe_count = sum(q.numel() for q in layer.parameters() if q.requires_grad)
    par.scaling_factor.requires_grad = True  # also differentiate w.r.t. the scale (the paper's second trainable)

    torch.manual_seed(seed + 100)
    with torch.no_grad():  # vector_z starts at the LU pivots; move it so the update is not zero
        par.vector_z.add_(0.1 * torch.randn(RANK))
    y = layer(x)
    (y * G).sum().backward()
    z, gz, gs = par.vector_z.detach().clone(), par.vector_z.grad.clone(), par.scaling_factor.grad.clone()
    with torch.no_grad():
        w_eff = layer.weight.detach().clone()
    minloldu.merge_loldu(layer)  # remove_parametrizations(leave_parametrized=True)
    merged = layer.weight.detach().clone()
    assert not hasattr(layer, "parametrizations")

    # self-checks of the README recipe
    Wd = W.double()
    io.assert_close(p + "W_from_init", residual0.double() + s0.double() * P.double() @ Lr.double() @ torch.diag(z0.double()) @ Ur.double(), W)
    io.assert_close(p + "y_init", x.double() @ Wd.T + bias.double(), y_init)
    zd = z.double().requires_grad_(True)
    sd = s0.double().requires_grad_(True)
    wd = residual0.double() + sd * P.double() @ Lr.double() @ torch.diag(zd) @ Ur.double()
    yd = x.double() @ wd.T + bias.double()
    (yd * G.double()).sum().backward()
    io.assert_close(p + "y", yd, y)
    io.assert_close(p + "merged_w", wd, merged)
    io.assert_close(p + "w_eff", wd, w_eff)
    io.assert_close(p + "grad_vector_z", zd.grad, gz)
    io.assert_close(p + "grad_scaling_factor", sd.grad, gs)
    k = min(fan_in, fan_out)
    assert torch.allclose(torch.diagonal(Lr[: min(RANK, k)]), torch.ones(min(RANK, k)))  # unit lower
    assert torch.allclose(torch.diagonal(Ur), torch.ones(Ur.shape[0]))  # unit upper

    T.update({
        p + "W": W, p + "bias": bias, p + "x": x, p + "G": G,
        p + "P": P, p + "L": Lr, p + "D_init": z0, p + "U": Ur, p + "scaling_factor": s0,
        p + "residual": residual0, p + "y_init": y_init,
        p + "vector_z": z, p + "y": y, p + "merged_w": merged,
        p + "grad_vector_z": gz, p + "grad_scaling_factor": gs,
    })
    M.update({
        p + "W": f"original nn.Linear weight [out={fan_out}, in={fan_in}] (the LDU init input)",
        p + "bias": "nn.Linear bias [out] (untouched by LoLDU)",
        p + "x": "input [n, in]",
        p + "G": "upstream gradient: loss L = sum(y * G)",
        p + "P": "P [out, out]: permutation of torch.linalg.lu(W) (W = P L U, partial pivoting); frozen nn.Parameter",
        p + "L": "lora_B = L[:, :r] [out, r]: unit lower-triangular factor's first r columns; frozen",
        p + "D_init": "vector_z at init = diag(U_lu)[:r] [r] (the LU pivots)",
        p + "U": "lora_A = (U_lu / diag(U_lu)[:, None])[:r] [r, in]: unit upper factor's first r rows; frozen",
        p + "scaling_factor": "scaling_factor (0-d) = lora_alpha / rank = 1/r (from_linear default lora_alpha=1)",
        p + "residual": "parametrizations.weight.original after init: W - scaling_factor * P @ L @ diag(D_init) @ U",
        p + "y_init": "output right after init (equals x @ W.T + bias)",
        p + "vector_z": "vector_z used for y/grads: D_init + 0.1*randn (perturbed by us)",
        p + "y": "y = x @ (residual + scaling_factor * P @ L @ diag(vector_z) @ U).T + bias",
        p + "merged_w": "weight after merge_loldu (remove_parametrizations, leave_parametrized=True)",
        p + "grad_vector_z": "dL/d vector_z",
        p + "grad_scaling_factor": "dL/d scaling_factor (0-d)",
    })
    return {
        "in_features": fan_in, "out_features": fan_out, "rank": RANK, "n": N, "lora_alpha": 1,
        "scaling_factor": float(s0), "init_method": "lu", "init_loldu_weights": "ldu",
        "trainable_by_get_loldu_params": recipe_trainable,
        "trainable_parameters": recipe_count,
        "requires_grad_as_left_by_the_module": default_trainable,
        "loss": float((y * G).sum()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    io.check_checkout(args.repo, PINNED)
    io.setup_determinism(0)
    minloldu = import_authors(args.repo)
    T, M, cases = {}, {}, {}
    for i, (tag, (fi, fo)) in enumerate(CASES.items()):
        cases[tag] = run_case(minloldu, tag, fi, fo, 10 + i, T, M)
    case = {
        "method": "loldu",
        "cases": cases,
        "trainable_formula": "r per adapted weight (vector_z) with the authors' get_loldu_params; r + 1 if scaling_factor is trained too (it is an nn.Parameter with requires_grad=True unless frozen); r is capped at min(out, in)",
        "dtype": "float32",
        "seeds": "torch.manual_seed(10) for 'wide', 11 for 'tall'; +100 for the vector_z perturbation",
    }
    notes = (
        "LoLDU = torch parametrization of nn.Linear.weight: W_eff = W_res + s * P @ L_r @ diag(z) @ U_r with (P, L, U) = "
        "torch.linalg.lu(W) (partial pivoting), D = diag(U), U row-normalised, top-r slices, s = lora_alpha/r, and "
        "W_res = W - s * P L_r diag(D_r) U_r so W_eff == W at init. Only vector_z is selected by get_loldu_params; "
        "scaling_factor is a Parameter whose grad is also stored. lightning stubbed (LightningModule = nn.Module)."
    )
    prov = io.provenance("loldu", "LoLDU: Low-Rank Adaptation via Lower-Diag-Upper Decomposition for Parameter-Efficient Fine-Tuning (Shi et al., 2024)",
                         REPOSITORY, COMMIT, sorted(PINNED),
                         ["add_loldu", "LoLDUParametrization", "ldu_decomposition", "get_loldu_params", "name_is_loldu", "merge_loldu"],
                         notes, PINNED, args.repo)
    size = io.write_fixture(args.out, prov, case, T, M)
    print(f"loldu: wrote {args.out} ({size} bytes of tensors)")


if __name__ == "__main__":
    main()
