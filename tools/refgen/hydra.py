"""Reference fixture for Hydra (Kim et al. 2023) from the authors' code, extremebird/Hydra.

Runs, from <repo>/vtab1k/hydra.py (the only one of the authors' three copies that has a merge):
  - Hydra_layer            (__init__: init of both branches; forward)
  - forward_vit_hydra_ffn  (the layer-level Hydra forward: y = fc2(h) + par(h) + seq(fc2(h)))
  - reparameterize         (the merge of both branches into fc2's weight and bias), called with the
                           arguments set_hydraWeight builds for the MLP branch (hydra.py:101-107)
timm is stubbed (only `timm.models.vision_transformer.Block` is referenced, by set_hydra/set_hydraWeight,
which we do not call because they hard-code ViT-B sizes 768/3072).

usage: /usr/bin/python3 tools/refgen/hydra.py --repo ../refs/src/hydra --out test/fixtures/reference/hydra
"""

import argparse
import importlib.util
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lowrank_b_io as io  # noqa: E402

COMMIT = "4138457859666d49b9ca9e45473d8570586670bb"
IN, OUT, N = 16, 12, 5
R_PAR, R_SEQ = 4, 2
SCALE = 1.5
SEED = 0


def load_authors(repo):
    class Block(nn.Module):  # stand-in for timm's ViT Block; never instantiated here
        pass

    io.stub_module("timm.models.vision_transformer", Block=Block)
    path = os.path.join(repo, "vtab1k", "hydra.py")
    spec = importlib.util.spec_from_file_location("hydra_vtab1k_authors", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    commit = io.check_commit(args.repo, COMMIT)
    H = load_authors(args.repo)
    io.deterministic(SEED)

    # The adapted linear layer (ViT's mlp.fc2 in the authors' setup) and the two branches, as set_hydra builds them
    # (hydra.py:81-82: Hydra_layer(in_features=.., hidden_dim=dim, scale=configs['scale'], do=configs['dropout'])).
    fc2 = nn.Linear(IN, OUT)
    par = H.Hydra_layer(in_features=IN, hidden_dim=R_PAR, out_features=OUT, scale=SCALE, do=0.0)
    seq = H.Hydra_layer(in_features=OUT, hidden_dim=R_SEQ, out_features=OUT, scale=SCALE, do=0.0)

    mlp = nn.Module()  # ViT Mlp with fc1/act/drop1/drop2 as identities: forward_vit_hydra_ffn becomes the layer alone
    mlp.fc1, mlp.act, mlp.drop1, mlp.drop2 = nn.Identity(), nn.Identity(), nn.Identity(), nn.Identity()
    mlp.fc2, mlp.hydra_mlp_par, mlp.hydra_mlp_seq = fc2, par, seq
    mlp.forward = H.forward_vit_hydra_ffn.__get__(mlp, mlp.__class__)
    mlp.eval()
    for p in fc2.parameters():
        p.requires_grad_(False)

    T = {}
    T["W"] = fc2.weight.detach().clone()
    T["b"] = fc2.bias.detach().clone()
    names = {
        "par_down_weight": par.down_proj.weight, "par_down_bias": par.down_proj.bias,
        "par_up_weight": par.up_proj.weight, "par_up_bias": par.up_proj.bias,
        "seq_down_weight": seq.down_proj.weight, "seq_down_bias": seq.down_proj.bias,
        "seq_up_weight": seq.up_proj.weight, "seq_up_bias": seq.up_proj.bias,
    }
    for k, p in names.items():
        T[k + "_init"] = p.detach().clone()

    x = torch.randn(N, IN)
    T["x"] = x
    with torch.no_grad():
        T["y_base"] = fc2(x)
        T["y_init"] = mlp(x)

    # Non-trivial values for what the init leaves at zero (up weights, all biases), so every term shows.
    with torch.no_grad():
        for k in ["par_down_bias", "par_up_weight", "par_up_bias", "seq_down_bias", "seq_up_weight", "seq_up_bias"]:
            names[k].copy_(torch.randn_like(names[k]) * 0.1)
    for k, p in names.items():
        T[k] = p.detach().clone()

    y = mlp(x)
    G = torch.randn_like(y)
    loss = (y * G).sum()
    loss.backward()
    T["y"] = y.detach().clone()
    T["G"] = G
    for k, p in names.items():
        T["grad_" + k] = p.grad.detach().clone()

    # Merge exactly as set_hydraWeight does for the MLP branch (hydra.py:101-107), with the authors' reparameterize.
    with torch.no_grad():
        weight_parallel = par.down_proj.weight.T @ par.up_proj.weight.T
        bias_parallel = par.down_proj.bias @ par.up_proj.weight.T + par.up_proj.bias
        weight_sequential = seq.down_proj.weight.T @ seq.up_proj.weight.T
        bias_sequential = seq.down_proj.bias @ seq.up_proj.weight.T + seq.up_proj.bias
        W_m, b_m = H.reparameterize(fc2.weight.T, fc2.bias, weight_parallel, bias_parallel,
                                     weight_sequential, bias_sequential, seq.scale)
        T["W_merged"] = W_m.clone()
        T["b_merged"] = b_m.clone()
        y_merged = x @ W_m.T + b_m
        T["y_merged"] = y_merged

    # Self-checks (our own): init is the identity on the base output, merge reproduces the forward.
    init_gap = (T["y_init"] - T["y_base"]).abs().max().item()
    merge_gap = (y_merged - T["y"]).abs().max().item()
    assert init_gap == 0.0, init_gap
    assert merge_gap < 1e-5, merge_gap

    trainable = sum(p.numel() for p in names.values())
    formula_trainable = R_PAR * IN + R_PAR + OUT * R_PAR + OUT + R_SEQ * OUT + R_SEQ + OUT * R_SEQ + OUT
    assert trainable == formula_trainable

    meanings = {
        "W": "base weight of the adapted linear (fc2) [out,in], frozen",
        "b": "base bias of the adapted linear [out], frozen",
        "x": "input [n,in] (the input of fc2)",
        "y_base": "x @ W.T + b",
        "y_init": "Hydra forward right after Hydra_layer.__init__ (up weights and all biases zero): equals y_base",
        "G": "fixed upstream gradient; loss L = sum(y * G)",
        "y": "Hydra forward with the stored (non-trivial) parameters",
        "W_merged": "merged weight [out,in] = W + s*(Bp@Ap + Bs@As@W)  (reparameterize)",
        "b_merged": "merged bias [out] = b + s*(Bs@(As@b + as) + bs) + s*(Bp@ap + bp)  (reparameterize)",
        "y_merged": "x @ W_merged.T + b_merged (equals y)",
    }
    part = {"par_down": "parallel branch down_proj (A_p)", "par_up": "parallel branch up_proj (B_p)",
            "seq_down": "sequential branch down_proj (A_s)", "seq_up": "sequential branch up_proj (B_s)"}
    for k in names:
        br, kind = k.rsplit("_", 1)
        shape = list(names[k].shape)
        meanings[k] = f"{part[br]} {kind} {shape}, value used for y, G-gradients and the merge"
        meanings[k + "_init"] = f"{part[br]} {kind} {shape} as Hydra_layer.__init__ left it (seeded)"
        meanings["grad_" + k] = f"dL/d({part[br]} {kind})"

    os.makedirs(args.out, exist_ok=True)
    io.write_safetensors(os.path.join(args.out, "tensors.safetensors"), T)
    case = {
        "method": "hydra",
        "config": {"in_features": IN, "out_features": OUT, "n": N, "parallel_rank": R_PAR,
                   "sequential_rank": R_SEQ, "scale": SCALE, "dropout": 0.0, "seed": SEED,
                   "branch_placement": "parallel branch reads the layer input x; sequential branch reads the layer "
                                       "output fc2(x) = x@W.T+b (bias included)"},
        "tensors": io.tensor_list(T, meanings),
        "scalars": {
            "loss": loss.item(),
            "trainable_params": trainable,
            "trainable_params_formula": "r_p*in + r_p + out*r_p + out + r_s*out + r_s + out*r_s + out "
                                        "(down/up weights and biases of both branches)",
            "stored_params_after_merge": 0,
            "max_abs_y_init_minus_y_base": init_gap,
            "max_abs_y_merged_minus_y": merge_gap,
        },
        "tolerance": io.DEFAULT_TOL,
    }
    io.write_json(os.path.join(args.out, "case.json"), case)
    io.write_json(os.path.join(args.out, "provenance.json"), io.provenance(
        "hydra", "Hydra: Multi-head Low-rank Adaptation for Parameter Efficient Fine-tuning (Kim et al., 2023)",
        "extremebird/Hydra", commit, ["vtab1k/hydra.py"],
        ["Hydra_layer", "forward_vit_hydra_ffn", "reparameterize"], args.out,
        "vtab1k variant (biases, xavier_uniform down_proj, zero up_proj, scale s on both branches). The elevater and "
        "nlu copies differ in init/bias/scale; see README. set_hydraWeight's attention branch (hydra.py:118) uses "
        "mlp.fc2.weight and crashes on ViT shapes; only the MLP-branch merge is reproduced."))
    print("hydra fixture written:", args.out, "loss", loss.item())


if __name__ == "__main__":
    main()
