"""Reference fixture for CorDA (Yang et al., NeurIPS 2024) from the authors' code, iboing/CorDA.

Runs, from <repo>/cordalib/act_aware_utils.py:
  - calib_cov_distribution   (forward hooks on every nn.Linear; per sample batch: x / max(x).abs(),
                              covariance += x^T x / 256)
and from <repo>/cordalib/decomposition.py:
  - decompose_to_adapter     (damped covariance C, SVD of W C, V <- C^{-1} V, keep the smallest r
                              (knowledge-preserved, first_eigen=False) or the largest r (instruction-previewed,
                              first_eigen=True) components, residual weight W - U S V^T)
  - CorDA_adapter            (its forward: ALinear(BLinear(x)) + x @ weight_residual^T, bias in ALinear)
tqdm is stubbed (a pass-through iterator).

usage: /usr/bin/python3 tools/refgen/corda.py --repo ../refs/src/corda --out test/fixtures/reference/corda
"""

import argparse
import contextlib
import copy
import io as pyio
import os
import re
import sys
from types import SimpleNamespace

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lowrank_b_io as io  # noqa: E402

COMMIT = "baffb03ac090f23305e5fb586a2d3c16df7f12db"
IN, OUT, R = 16, 12, 4
N_BATCHES, TOKENS = 4, 8     # sample batches of [1, TOKENS, IN] (their hook squeezes the batch dim of 1)
N = 5
SEED = 0


class Tiny(nn.Module):
    """A one-linear 'model' with what calib_cov_distribution reads: .config._name_or_path, .device, model(**batch)."""

    def __init__(self):
        super().__init__()
        self.config = SimpleNamespace(_name_or_path="refgen/tiny")
        self.proj = nn.Linear(IN, OUT, bias=True)

    @property
    def device(self):
        return self.proj.weight.device

    def forward(self, input_ids):
        return self.proj(input_ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    commit = io.check_commit(args.repo, COMMIT)
    io.stub_module("tqdm", tqdm=lambda it, *a, **k: it)
    sys.path.insert(0, args.repo)
    from cordalib.act_aware_utils import calib_cov_distribution
    from cordalib.decomposition import decompose_to_adapter

    io.deterministic(SEED)
    model = Tiny().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    # Context samples with correlated, non-centred features, so that the covariance is far from isotropic.
    mix = torch.randn(IN, IN) * torch.linspace(0.2, 2.0, IN)
    samples = [torch.randn(1, TOKENS, IN) @ mix + 0.5 for _ in range(N_BATCHES)]
    loader = [{"input_ids": s} for s in samples]

    T = {"W": model.proj.weight.detach().clone(), "b": model.proj.bias.detach().clone(),
         "samples": torch.cat(samples, dim=0)}
    cwd = os.getcwd()
    tmp = os.path.join(args.out, ".corda_tmp")
    os.makedirs(tmp, exist_ok=True)
    os.chdir(tmp)  # their function builds a cache path under ./cache (not read with use_cache=False, never written)
    try:
        with contextlib.redirect_stdout(pyio.StringIO()):
            calib_cov_distribution(model, loader, use_cache=False, calib_dataset="refgen", calib_size=N_BATCHES,
                                   seed=SEED)
    finally:
        os.chdir(cwd)
        os.rmdir(tmp)
    cov = model.proj.covariance_matrix.detach().clone()
    T["covariance"] = cov

    x = torch.randn(N, IN)
    T["x"] = x
    with torch.no_grad():
        y_base = model.proj(x)
    T["y_base"] = y_base
    G = torch.randn(N, OUT)
    T["G"] = G

    scalars = {}
    for mode, first_eigen in (("kpa", False), ("ipa", True)):
        lin = copy.deepcopy(model.proj)  # keeps the covariance_matrix attribute
        buf = pyio.StringIO()
        with contextlib.redirect_stdout(buf), torch.no_grad():
            adapter = decompose_to_adapter(lin, act_aware=False, cov_aware=True, r=R, first_eigen=first_eigen)
        damps = [float(v) for v in re.findall(r"damp: ([0-9.eE+-]+)", buf.getvalue())]
        a_w = adapter.ALinear.weight
        a_b = adapter.ALinear.bias
        b_w = adapter.BLinear.weight
        for p in (a_w, a_b, b_w):
            p.requires_grad_(True)
        y = adapter(x)
        loss = (y * G).sum()
        loss.backward()
        T[f"{mode}_ALinear_weight"] = a_w.detach().clone()
        T[f"{mode}_ALinear_bias"] = a_b.detach().clone()
        T[f"{mode}_BLinear_weight"] = b_w.detach().clone()
        T[f"{mode}_weight_residual"] = adapter.weight_residual.detach().clone()
        T[f"{mode}_y_init"] = y.detach().clone()
        T[f"{mode}_grad_ALinear_weight"] = a_w.grad.detach().clone()
        T[f"{mode}_grad_ALinear_bias"] = a_b.grad.detach().clone()
        T[f"{mode}_grad_BLinear_weight"] = b_w.grad.detach().clone()
        # Sign-invariant views (our own): the adapter's product and the singular values it carries.
        T[f"{mode}_delta"] = (a_w @ b_w).detach().clone()
        T[f"{mode}_S"] = (a_w.detach() ** 2).sum(dim=0)  # ||U_k sqrt(S_k)||^2 = S_k since U has orthonormal columns
        gap = (y.detach() - y_base).abs().max().item()
        recon = (a_w @ b_w + adapter.weight_residual - T["W"]).abs().max().item()
        assert gap < 1e-4, gap
        scalars[mode] = {"damp": damps[-1], "damp_tries": damps, "loss_at_init": loss.item(),
                         "max_abs_y_init_minus_y_base": gap, "max_abs_reconstruction_error": recon}

    # our own check of the singular values against a plain SVD of W @ C_fix with the damp their loop chose
    with torch.no_grad():
        damp = scalars["kpa"]["damp"]
        cfix = cov + torch.eye(IN) * torch.mean(torch.diag(cov)) * damp
        s_all = torch.linalg.svdvals(T["W"] @ cfix)
    T["S_all_WC"] = s_all
    assert torch.allclose(T["kpa_S"], s_all[-R:], rtol=1e-4, atol=1e-5)
    assert torch.allclose(T["ipa_S"], s_all[:R], rtol=1e-4, atol=1e-5)

    meanings = {
        "W": f"base weight [{OUT},{IN}]", "b": f"base bias [{OUT}]",
        "samples": f"the {N_BATCHES} context batches fed to the model, stacked [{N_BATCHES},{TOKENS},{IN}] "
                   "(each was a [1,TOKENS,IN] batch)",
        "covariance": f"covariance_matrix [{IN},{IN}] collected by calib_cov_distribution: "
                      "sum over batches of (X/max(X).abs())^T (X/max(X).abs()) / 256",
        "x": f"test input [{N},{IN}]", "y_base": "x @ W.T + b", "G": "upstream gradient, L = sum(y*G)",
        "S_all_WC": "all singular values of W @ (covariance + damp*mean(diag(covariance))*I) (torch.linalg.svdvals; "
                    "generator's own, for reference)",
    }
    for mode, what in (("kpa", "knowledge-preserved (first_eigen=False: smallest r components)"),
                       ("ipa", "instruction-previewed (first_eigen=True: largest r components)")):
        meanings.update({
            f"{mode}_ALinear_weight": f"{what}: ALinear.weight [{OUT},{R}] = U_r * sqrt(S_r) (maps r -> out; "
                                      "LoRA's B)",
            f"{mode}_ALinear_bias": f"{what}: ALinear.bias [{OUT}] = the base bias b (trainable: name has ALinear)",
            f"{mode}_BLinear_weight": f"{what}: BLinear.weight [{R},{IN}] = sqrt(S_r) * (C^-1 V_r)^T (maps in -> "
                                      "r; LoRA's A)",
            f"{mode}_weight_residual": f"{what}: frozen weight_residual [{OUT},{IN}] = W - U_r S_r (C^-1 V_r)^T",
            f"{mode}_y_init": f"{what}: CorDA_adapter(x) at init (= y_base up to rounding)",
            f"{mode}_grad_ALinear_weight": f"{what}: dL/d ALinear.weight at init",
            f"{mode}_grad_ALinear_bias": f"{what}: dL/d ALinear.bias at init",
            f"{mode}_grad_BLinear_weight": f"{what}: dL/d BLinear.weight at init",
            f"{mode}_delta": f"{what}: ALinear.weight @ BLinear.weight (sign-invariant)",
            f"{mode}_S": f"{what}: the r singular values kept = column norms^2 of ALinear.weight (sign-invariant)",
        })

    os.makedirs(args.out, exist_ok=True)
    io.write_safetensors(os.path.join(args.out, "tensors.safetensors"), T)
    case = {
        "method": "corda",
        "config": {"in_features": IN, "out_features": OUT, "r": R, "sample_batches": N_BATCHES,
                   "tokens_per_batch": TOKENS, "covariance_divisor": 256, "damp_start": 0.01,
                   "damp_rule": "double damp until ||C_fix @ inv(C_fix) - I||_F < 0.05", "sigma_fuse": "UV",
                   "n": N, "seed": SEED, "modes": {"kpa": "first_eigen=False", "ipa": "first_eigen=True"}},
        "tensors": io.tensor_list(T, meanings),
        "scalars": {
            **{f"{m}_{k}": v for m, d in scalars.items() for k, v in d.items()},
            "trainable_params": R * (IN + OUT) + OUT,
            "trainable_params_formula": "r*(in+out) + out (ALinear.weight, BLinear.weight, and ALinear.bias when the "
                                        "base layer has a bias; r*(in+out) for LLaMA, which has none)",
            "stored_params": R * (IN + OUT) + OUT + OUT * IN,
            "stored_params_formula": "trainable + weight_residual (out*in, replaces W)",
        },
        "tolerance": io.DEFAULT_TOL,
        "tolerance_overrides": [{
            "tensors": "every kpa_* and ipa_* tensor",
            "rule": "|a-b| <= 1e-3*max(|b|) + 1e-6, max over the whole tensor",
            "why": "BLinear carries C^-1 (cond ~500 here) and comes from a float32 SVD: a float32 re-implementation "
                   "(numpy) lands within 4e-5*max|b| of these values, but small entries miss the element-wise rule",
        }],
        "sign_convention": "component k of ALinear (column k) and BLinear (row k) is defined up to a joint sign flip "
                           "(SVD); align the signs (e.g. make sum(A_mine[:,k]*A_ref[:,k]) > 0) before comparing "
                           "them and their gradients; *_delta, *_S, *_weight_residual, *_y_init are sign-invariant",
    }
    io.write_json(os.path.join(args.out, "case.json"), case)
    io.write_json(os.path.join(args.out, "provenance.json"), io.provenance(
        "corda", "CorDA: Context-Oriented Decomposition Adaptation of Large Language Models for Task-Aware "
        "Parameter-Efficient Fine-tuning (Yang et al., NeurIPS 2024)", "iboing/CorDA", commit,
        ["cordalib/act_aware_utils.py", "cordalib/decomposition.py"],
        ["calib_cov_distribution", "decompose_to_adapter", "CorDA_adapter"], args.out,
        "tqdm stubbed. The same module was also read in huggingface/peft (src/peft/tuners/lora/corda.py and "
        "LoraLayer.corda_init in layer.py); differences are listed in the README. Numbers are from the authors' repo."))
    print("corda fixture written:", args.out, {m: d["damp"] for m, d in scalars.items()})


if __name__ == "__main__":
    main()
