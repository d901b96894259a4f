#!/usr/bin/env python3
"""TriAdaptLoRA reference fixture, computed by the authors' code.

There is no stand-alone TriAdaptLoRA repository in the store. The first author (Yao Liang) ships the
method as a PEFT tuner inside YaoLiang2023/DiverValue-Bench (peft/src/peft/tuners/triadaptlora.py, whose
docstring cites arXiv 2501.08008), pinned below.

Authors' objects that run here (peft/src/peft/tuners/triadaptlora.py):
  TriAdaptLoraConfig, TriAdaptLinear (TriAdaptLoraLayer.update_layer / reset_lora_parameters /
  add_parameters / compute_score, forward through loraW), RankAllocator (update_and_increase ->
  increase_to_target_rank -> compute_threshold). Also loraW of the older variant file
  triadaptlora_bak_21_final_parameterlist_block_c0.py (scaling / (ranknum + 1e-5) instead of the fixed * 2).
Package __init__ files are not executed (they import transformers/accelerate); peft.utils and peft.tuners.lora
are the authors' files with transformers / huggingface_hub stubbed.
Our code builds four layers, perturbs parameters (standing in for training), and writes/self-checks the fixture.

usage: /usr/bin/python3 tools/refgen/triadaptlora.py --repo ../refs/src/triadaptlora --out test/fixtures/reference/triadaptlora
"""
import argparse
import importlib
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io_lowrank_a as io  # noqa: E402

REPOSITORY = "YaoLiang2023/DiverValue-Bench"
COMMIT = "7ccb196eba10fd8eb506bd08f5d163adb472a6ef"
PINNED = {
    "peft/src/peft/tuners/triadaptlora.py": "560a19730c693857ba441aeaf70f32845d31c8de",
    "peft/src/peft/tuners/triadaptlora_bak_21_final_parameterlist_block_c0.py": "17c1cdb445c3256e7c1af422b85781d8af07c6d8",
    "peft/src/peft/tuners/lora.py": "0a4bfb98622d94f4f2f4a57c880fa1cf1cde2c48",
    "peft/src/peft/import_utils.py": "875e0e2c35e7672b6e10f9327dc331a4b8324590",
    "peft/src/peft/utils/__init__.py": "58dc0d301da5ef80487db80e144e96a429e46950",
    "peft/src/peft/utils/config.py": "abe978a92df93706f5159c02b906f60601dd218c",
    "peft/src/peft/utils/other.py": "c65e60651955409687d9bbcbd4ab1267746e6dea",
    "peft/src/peft/utils/hub_utils.py": "625f4e490de4ef5e936e8786a73a9e4932b49389",
    "peft/src/peft/utils/save_and_load.py": "82738128d370847687752e450770fcd3037d57cf",
}
SHAPES = [(16, 12), (12, 16), (16, 16), (12, 12)]
N = 5
AD = "default"
CFG = dict(init_rank=2, reference_rank=4, lora_alpha=32, lora_dropout=0.05, init_warmup=0, incre_interval=1,
           total_step=10, rank_growth_model="linear", top_k=1, weight_decay=0.0)
STEP = 3


def import_authors(repo):
    class _Mixin:  # transformers.utils.PushToHubMixin: only a base class here
        pass

    io.stub("transformers.pytorch_utils", Conv1D=type("Conv1D", (nn.Module,), {}))
    io.stub("transformers.utils", PushToHubMixin=_Mixin)
    io.stub("huggingface_hub", hf_hub_download=None, get_hf_file_metadata=None, hf_hub_url=None)
    io.stub("huggingface_hub.utils", EntryNotFoundError=type("EntryNotFoundError", (Exception,), {}))
    root = os.path.join(repo, "peft", "src", "peft")
    io.package_shell("peft", root)
    io.package_shell("peft.tuners", os.path.join(root, "tuners"))
    tri = importlib.import_module("peft.tuners.triadaptlora")
    old = importlib.import_module("peft.tuners.triadaptlora_bak_21_final_parameterlist_block_c0")
    return tri, old


class Holder(nn.Module):
    def __init__(self, mods):
        super().__init__()
        for i, m in enumerate(mods):
            setattr(self, f"m{i}", m)


def assembled_C(tri, m):
    """C = lower + upper block matrix, assembled by the authors' loraW: loraW(I-rows, C_row, C_col, I-cols) = 2 C."""
    R = m.lora_C_row[AD][-1].size(1)
    eye = torch.eye(R)
    rows, cols, o = [], [], 0
    for c in m.lora_C_row[AD]:
        r = c.size(0)
        rows.append(eye[o:o + r])
        cols.append(eye[:, o:o + r])
        o += r
    with torch.no_grad():
        return tri.loraW()(rows, m.lora_C_row[AD], m.lora_C_col[AD], cols, m.scaling[AD]) / 2.0


def blocks(m, name):
    return [p.detach().clone() for p in getattr(m, name)[AD]]


def perturb(params, scale):
    with torch.no_grad():
        for p in params:
            p.add_(scale * torch.randn(p.shape))


def lora_count(m):
    return sum(p.numel() for n, p in m.named_parameters() if p.requires_grad and "lora_" in n)


def forward_and_grads(m, x, G):
    for p in m.parameters():
        p.grad = None
    y = m(x)
    (y * G).sum().backward()
    grads = {k: [p.grad.clone() for p in getattr(m, k)[AD]] for k in ("lora_A", "lora_B", "lora_C_row", "lora_C_col")}
    return y.detach().clone(), grads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    io.check_checkout(args.repo, PINNED)
    io.setup_determinism(0)
    tri, old = import_authors(args.repo)

    conf = tri.TriAdaptLoraConfig(r=CFG["init_rank"], init_rank=CFG["init_rank"], reference_rank=CFG["reference_rank"],
                                  lora_alpha=CFG["lora_alpha"], lora_dropout=CFG["lora_dropout"], init_warmup=CFG["init_warmup"],
                                  incre_interval=CFG["incre_interval"], total_step=CFG["total_step"],
                                  rank_growth_model=CFG["rank_growth_model"], top_k=CFG["top_k"], weight_decay=CFG["weight_decay"])
    torch.manual_seed(50)
    # lora_dropout must be > 0: with 0 their update_layer puts a plain function into nn.ModuleDict (TypeError).
    mods = [tri.TriAdaptLinear(AD, i, o, r=CFG["init_rank"], lora_alpha=CFG["lora_alpha"], lora_dropout=CFG["lora_dropout"],
                               init_lora_weights=True) for i, o in SHAPES]
    model = Holder(mods)
    model.eval()  # dropout off (the only train/eval difference)
    for m in mods:
        m.bias.requires_grad_(False)  # mark_only_lora_as_trainable(bias="none") in TriAdaptLoraModel
    T, M = {}, {}
    init = [{k: blocks(m, k) for k in ("lora_A", "lora_B", "lora_C_row", "lora_C_col")} for m in mods]
    pre_norm_init = [float(m.preNormValue[AD]) for m in mods]
    counts_init = [lora_count(m) for m in mods]

    torch.manual_seed(51)
    xs = [torch.randn(N, i) for i, _ in SHAPES]
    Gs = [torch.randn(N, o) for _, o in SHAPES]
    with torch.no_grad():
        y_init = [m(x) for m, x in zip(mods, xs)]
    # stand-in for training: move every parameter (B is zero at init, C starts at the identity)
    for k, m in enumerate(mods):
        perturb(m.lora_C_row[AD], 0.1 * (k + 1))
        perturb(m.lora_C_col[AD], 0.1 * (k + 1))
        perturb(m.lora_A[AD], 0.02)
        perturb(m.lora_B[AD], 0.1)
    before = [{k: blocks(m, k) for k in ("lora_A", "lora_B", "lora_C_row", "lora_C_col")} for m in mods]
    fg_before = [forward_and_grads(m, x, G) for m, x, G in zip(mods, xs, Gs)]

    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.0)
    alloc = tri.RankAllocator(model, conf, AD)
    assert alloc.incre_rank_num == 2 and alloc.target_total_rank == CFG["reference_rank"] * len(mods)
    total_before = alloc.total_rank
    ranks_before = [m.ranknum[AD] for m in mods]
    _, thr = alloc.update_and_increase(model, STEP, optimizer)
    scores = [float(m.score[AD]) for m in mods]
    pre_norm_after = [float(m.preNormValue[AD]) for m in mods]
    grown = [int(m.ranknum[AD] > r) for m, r in zip(mods, ranks_before)]
    ranks_after = [m.ranknum[AD] for m in mods]
    total_after = alloc.total_rank
    # the same scores through the 'non-linear' rule (authors' compute_threshold, state as before the growth)
    alloc.total_rank, alloc.rank_growth_model = total_before, "non-linear"
    thr_nl = alloc.compute_threshold(STEP, scores)
    alloc.total_rank, alloc.rank_growth_model = total_after, CFG["rank_growth_model"]
    new_blocks = [{k: getattr(m, k)[AD][-1].detach().clone() for k in ("lora_A", "lora_B", "lora_C_row", "lora_C_col")}
                  if g else None for m, g in zip(mods, grown)]
    counts_after = [lora_count(m) for m in mods]
    with torch.no_grad():  # delta W right after growth: the new block is not function-preserving (C_col eye couples it)
        dW_grow = [m.W(m.lora_A[AD], m.lora_C_row[AD], m.lora_C_col[AD], m.lora_B[AD], m.scaling[AD]).detach().clone() for m in mods]

    # after growth: move the new blocks too (B starts at zero) and run forward/grads with two blocks
    torch.manual_seed(52)
    for m, g in zip(mods, grown):
        if g:
            perturb([m.lora_C_row[AD][-1], m.lora_C_col[AD][-1]], 0.1)
            perturb([m.lora_B[AD][-1]], 0.1)
    after = [{k: blocks(m, k) for k in ("lora_A", "lora_B", "lora_C_row", "lora_C_col")} for m in mods]
    C_after = [assembled_C(tri, m) for m in mods]
    fg_after = [forward_and_grads(m, x, G) for m, x, G in zip(mods, xs, Gs)]
    with torch.no_grad():
        dW_after = [m.W(m.lora_A[AD], m.lora_C_row[AD], m.lora_C_col[AD], m.lora_B[AD], m.scaling[AD]) for m in mods]
        dW_variant = [old.loraW()(m.lora_A[AD], m.lora_C_row[AD], m.lora_C_col[AD], m.lora_B[AD], m.scaling[AD]) for m in mods]

    # ---- self-checks of the README recipe
    def C_from(bl):
        R = bl["lora_C_row"][-1].size(1)
        lo = torch.cat([torch.cat([c, torch.zeros(c.size(0), R - c.size(1))], 1) for c in bl["lora_C_row"]], 0)
        up = torch.cat([torch.cat([c, torch.zeros(R - c.size(0), c.size(1))], 0) for c in bl["lora_C_col"]], 1)
        return (lo + up).double()

    for k, m in enumerate(mods):
        io.assert_close(f"m{k}.C_after", C_from(after[k]), C_after[k])
        for tag, bl, (y, gr) in (("before", before[k], fg_before[k]), ("after", after[k], fg_after[k])):
            A = torch.cat(bl["lora_A"], 0).double().requires_grad_(True)
            B = torch.cat(bl["lora_B"], 1).double().requires_grad_(True)
            C = C_from(bl).requires_grad_(True)
            dW = 2.0 * B @ (C @ A)
            yd = xs[k].double() @ (m.weight.double() + dW).T + m.bias.double()
            (yd * Gs[k].double()).sum().backward()
            io.assert_close(f"m{k}.y_{tag}", yd, y)
            io.assert_close(f"m{k}.gA_{tag}", A.grad, torch.cat(gr["lora_A"], 0))
            io.assert_close(f"m{k}.gB_{tag}", B.grad, torch.cat(gr["lora_B"], 1))
            # a C_row block's gradient is the matching (zero-padded) slice of dL/dC, likewise C_col
            o = 0
            for c, g in zip(bl["lora_C_row"], gr["lora_C_row"]):
                io.assert_close(f"m{k}.gCrow_{tag}", C.grad[o:o + c.size(0), : c.size(1)], g)
                o += c.size(0)
            o = 0
            for c, g in zip(bl["lora_C_col"], gr["lora_C_col"]):
                io.assert_close(f"m{k}.gCcol_{tag}", C.grad[: c.size(0), o:o + c.size(1)], g)
                o += c.size(1)
        Ba, Aa = torch.cat(after[k]["lora_B"], 1).double(), torch.cat(after[k]["lora_A"], 0).double()
        io.assert_close(f"m{k}.dW_variant", Ba @ (C_from(after[k]) @ Aa) * CFG["lora_alpha"] / (ranks_after[k] + 1e-5), dW_variant[k])
        sc = (torch.linalg.norm(C_from(before[k])) / len(before[k]["lora_C_row"]) - pre_norm_init[k]).item()
        assert abs(sc - scores[k]) <= 1e-4 * abs(sc) + 1e-6, (k, sc, scores[k])
        io.assert_close(f"m{k}.y_init", xs[k].double() @ m.weight.double().T + m.bias.double(), y_init[k])
        blocks_r = [b.size(0) for b in after[k]["lora_A"]]
        cum = np.cumsum(blocks_r)
        assert counts_after[k] == sum(blocks_r) * (SHAPES[k][0] + SHAPES[k][1]) + 2 * int(sum(r * s for r, s in zip(blocks_r, cum)))
    c = (STEP - CFG["init_warmup"]) / (CFG["total_step"] - CFG["init_warmup"])
    gap = alloc.target_total_rank - total_before
    n_lin = max(1, min(int(gap * c), len(mods)))
    n_nl = max(1, min(int(np.exp(c * np.log(gap))), len(mods)))
    order = sorted(scores, reverse=True)
    assert thr == order[n_lin - 1] and thr_nl == order[n_nl - 1]
    assert grown == [int(s >= thr) for s in scores]

    for k, m in enumerate(mods):
        p = f"m{k}."
        i, o = SHAPES[k]
        T.update({p + "W": m.weight, p + "bias": m.bias, p + "x": xs[k], p + "G": Gs[k], p + "y_init": y_init[k],
                  p + "y_before": fg_before[k][0], p + "y_after": fg_after[k][0],
                  p + "C_after": C_after[k], p + "delta_w_at_growth": dW_grow[k], p + "delta_w_after": dW_after[k], p + "delta_w_variant": dW_variant[k],
                  p + "score": torch.tensor(scores[k]), p + "pre_norm_init": torch.tensor(pre_norm_init[k]),
                  p + "pre_norm_after": torch.tensor(pre_norm_after[k])})
        M.update({
            p + "W": f"frozen base weight [{o}, {i}]", p + "bias": "frozen base bias [out]",
            p + "x": "input [n, in] (used for y_init, y_before, y_after)", p + "G": "upstream gradient: L = sum(y * G)",
            p + "y_init": "output right after construction (B = 0): x @ W.T + bias",
            p + "y_before": "output with the *_before blocks (one block, rank 2)",
            p + "y_after": "output with the *_after blocks (rank 4 if grown: two blocks)",
            p + "C_after": "assembled [R, R] matrix C = lower(C_row blocks) + upper(C_col blocks) after growth (via the authors' loraW)",
            p + "delta_w_at_growth": "loraW output right after the growth step (new block as created, before our perturbation); differs from the pre-growth delta for grown modules",
            p + "delta_w_after": "loraW output after growth (active file): B_cat @ (C @ A_cat) * 2",
            p + "delta_w_variant": "loraW of triadaptlora_bak_21_final_parameterlist_block_c0.py on the same blocks: B_cat @ (C @ A_cat) * lora_alpha / (ranknum + 1e-5)",
            p + "score": "compute_score() at the growth step: ||C_before||_F / #blocks - pre_norm_init",
            p + "pre_norm_init": "preNormValue set by compute_score() at construction: ||C_init||_F / 1 (C_init = 2*I for the first block)",
            p + "pre_norm_after": "preNormValue after the growth step (= ||C_before||_F / #blocks)",
        })
        for tag, bl, gr in (("init", init[k], None), ("before", before[k], fg_before[k][1]), ("after", after[k], fg_after[k][1])):
            for name in ("lora_A", "lora_B", "lora_C_row", "lora_C_col"):
                for j, t in enumerate(bl[name]):
                    T[f"{p}{name}.{j}_{tag}"] = t
                    M[f"{p}{name}.{j}_{tag}"] = f"{name}[{j}] {tag}" + {
                        "init": " (as created by add_parameters/reset_lora_parameters)",
                        "before": " (init + our perturbation; used for y_before)",
                        "after": " (after growth + our perturbation of the new block; used for y_after)"}[tag]
                    if gr is not None:
                        T[f"{p}grad_{name}.{j}_{tag}"] = gr[name][j]
                        M[f"{p}grad_{name}.{j}_{tag}"] = f"dL/d {name}[{j}] for y_{tag}"
        if new_blocks[k] is not None:
            for name, t in new_blocks[k].items():
                T[f"{p}{name}.new"] = t
                M[f"{p}{name}.new"] = f"{name}[-1] exactly as add_parameters created it during the growth step"
    T["grown"] = torch.tensor(grown, dtype=torch.int32)
    T["threshold_linear"] = torch.tensor(thr, dtype=torch.float32)
    T["threshold_nonlinear"] = torch.tensor(thr_nl, dtype=torch.float32)
    M["grown"] = "I32 [modules]: 1 where score >= threshold_linear (the module got incre_rank_num more rank)"
    M["threshold_linear"] = "increase_threshold returned by update_and_increase (rank_growth_model 'linear')"
    M["threshold_nonlinear"] = "compute_threshold() with rank_growth_model 'non-linear' on the same scores and budget state"

    case = {
        "method": "triadaptlora",
        "modules": [{"name": f"m{k}", "in_features": i, "out_features": o} for k, (i, o) in enumerate(SHAPES)],
        "config": CFG,
        "global_step": STEP,
        "incre_rank_num": alloc.incre_rank_num,
        "target_total_rank": alloc.target_total_rank,
        "total_rank_before": total_before,
        "total_rank_after": total_after,
        "mul_coeff": c,
        "num_increase_matrices_linear": n_lin,
        "num_increase_matrices_nonlinear": n_nl,
        "scores": scores,
        "ranks_before": ranks_before,
        "ranks_after": ranks_after,
        "block_sizes_after": [[b.size(0) for b in a["lora_A"]] for a in after],
        "trainable_parameters_init": {f"m{k}": v for k, v in enumerate(counts_init)},
        "trainable_parameters_after": {f"m{k}": v for k, v in enumerate(counts_after)},
        "trainable_formula": "R*(in+out) + 2*sum_i r_i*s_i over blocks (r_i block size, s_i = r_1+...+r_i cumulative rank, R = s_last); "
                             "equal blocks of size a: R*(in+out) + R*(R+a). The code's own log 'sum_param' uses R*(in+out) + 2*R*R.",
        "scale_active_file": 2.0,
        "losses": {"before": float(sum((f[0] * g).sum() for f, g in zip(fg_before, Gs))),
                   "after": float(sum((f[0] * g).sum() for f, g in zip(fg_after, Gs)))},
        "dtype": "float32",
        "seeds": "manual_seed(50) construction, 51 x/G and pre-growth perturbation, 52 post-growth perturbation; new blocks' A drawn inside add_parameters",
    }
    notes = (
        "No dedicated TriAdaptLoRA repository found; the first author's PEFT fork inside YaoLiang2023/DiverValue-Bench "
        "(2026, cites arXiv 2501.08008; its own training scripts use plain LoRA) holds triadaptlora.py plus six older variant "
        "files. The active file hard-codes delta W = B (C A) * 2 (lora_alpha is ignored); the older variants use "
        "lora_alpha/(ranknum+1e-5) (stored as delta_w_variant). C_row/C_col init to eye_, A ~ N(0,0.02), B = 0; growth "
        "is not function-preserving (delta_w_at_growth). lora_dropout must be > 0 (0 crashes update_layer); eval mode used. "
        "transformers/huggingface_hub stubbed; package __init__ files skipped."
    )
    prov = io.provenance("triadaptlora", "TriAdaptLoRA: Brain-Inspired Triangular Adaptive Low-Rank Adaptation for Parameter-Efficient Fine-Tuning (Liang, Wang, Zeng, 2025)",
                         REPOSITORY, COMMIT, sorted(PINNED),
                         ["TriAdaptLoraConfig", "TriAdaptLinear", "TriAdaptLoraLayer.update_layer", "TriAdaptLoraLayer.add_parameters",
                          "TriAdaptLoraLayer.compute_score", "loraW", "RankAllocator.update_and_increase",
                          "RankAllocator.increase_to_target_rank", "RankAllocator.compute_threshold",
                          "triadaptlora_bak_21_final_parameterlist_block_c0.loraW"],
                         notes, PINNED, args.repo)
    size = io.write_fixture(args.out, prov, case, T, M)
    print(f"triadaptlora: wrote {args.out} ({size} bytes of tensors)", file=sys.stderr)


if __name__ == "__main__":
    main()
