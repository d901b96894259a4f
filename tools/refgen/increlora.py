#!/usr/bin/env python3
"""IncreLoRA reference fixture, computed by the authors' code (FeiyuZhang98/IncreLoRA, pinned below).

Authors' objects that run here (loralib/loralib/increlora.py):
  SVDLinear (init, forward through loraW, the full backward hook that computes the module score,
  add_reserve_param) and RankAllocator (update_and_increase -> update_ipt, calculate_score,
  increase_to_target_rank), called in the order of their Trainer (NLU/src/transformers/trainer.py:1113-1126:
  loss.backward(); [clip]; rankallocator.update_and_increase(model, global_step, optimizer); optimizer.step()).
`ipdb` (imported at module level, used only on exceptions) is stubbed.
Our code builds four SVDLinear modules, inputs, sets lora_E (zero at init), never steps the optimizer
(so parameters change only by the allocator), and writes/self-checks the fixture.

usage: /usr/bin/python3 tools/refgen/increlora.py --repo ../refs/src/increlora --out test/fixtures/reference/increlora
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io_lowrank_a as io  # noqa: E402

REPOSITORY = "FeiyuZhang98/IncreLoRA"
COMMIT = "51a2d734af7883ef90425206057c1ef25997b359"
PINNED = {
    "loralib/loralib/__init__.py": "dfaa448ae404afa424da3bf63a468a3f1a9e7d80",
    "loralib/loralib/increlora.py": "3d548877186edb7246ca949e008c3c6cfeab25f9",
    "loralib/loralib/layers.py": "e4bdff3df18011e886e74cea309e23bdd87c5934",
    "loralib/loralib/utils.py": "0d121c9bbd6a424d8f4233fac17335aab5141d9b",
}
SHAPES = [(16, 12), (12, 16), (16, 16), (12, 12)]  # (in, out) of modules m0..m3
N = 5
# As NLU/scripts/rank=2/*.sh: --lora_r 1 --target_rank 2 --lora_alpha 32 --beta1 0.85 --beta2 0.85
# --advance_learn True --top_h 5 (top_h scaled to 2 for 4 modules), init_warmup/incre_interval scaled to 0/1.
CFG = dict(lora_r=1, target_rank=2, lora_alpha=32, init_warmup=0, incre_interval=1, top_h=2,
           advance_learn=True, beta1=0.85, beta2=0.85, total_step=10, weight_decay=0.01)


class Holder(nn.Module):
    def __init__(self, mods):
        super().__init__()
        for i, m in enumerate(mods):
            setattr(self, f"m{i}", m)

    def forward(self, xs):
        return [getattr(self, f"m{i}")(x) for i, x in enumerate(xs)]


def cat_state(m):
    return (torch.cat([a.detach() for a in m.lora_A], 0), torch.cat([e.detach() for e in m.lora_E], 0),
            torch.cat([b.detach() for b in m.lora_B], 1))


def cat_grad(plist, dim):
    return torch.cat([p.grad if p.grad is not None else torch.zeros_like(p) for p in plist], dim)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    io.check_checkout(args.repo, PINNED)
    io.setup_determinism(0)
    io.stub("ipdb", set_trace=lambda *a, **k: None)
    sys.path.insert(0, os.path.join(args.repo, "loralib"))
    import loralib  # loralib/loralib/__init__.py -> layers, utils, increlora

    torch.manual_seed(40)
    mods = [loralib.SVDLinear(i, o, r=CFG["lora_r"], lora_alpha=CFG["lora_alpha"], lora_dropout=0.0, merge_weights=False)
            for i, o in SHAPES]
    model = Holder(mods)
    model.train()
    T, M = {}, {}
    init = []
    for k, m in enumerate(mods):
        assert float(m.lora_E[0].abs().sum()) == 0
        init.append((m.lora_A[0].detach().clone(), m.lora_B[0].detach().clone()))
    torch.manual_seed(41)
    xs0 = [torch.randn(N, i) for i, _ in SHAPES]
    Gs0 = [torch.randn(N, o) for _, o in SHAPES]
    xs1 = [torch.randn(N, i) for i, _ in SHAPES]
    Gs1 = [torch.randn(N, o) for _, o in SHAPES]
    with torch.no_grad():
        y_init = model(xs0)
        for m in mods:  # lora_E is zero at init: set it so every term shows (like a few training steps would)
            m.lora_E[0].copy_(0.1 * torch.randn(m.lora_E[0].shape))
    E_set = [m.lora_E[0].detach().clone() for m in mods]

    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.0)
    alloc = loralib.RankAllocator(model, lora_r=CFG["lora_r"], target_rank=CFG["target_rank"],
                                  init_warmup=CFG["init_warmup"], incre_interval=CFG["incre_interval"],
                                  top_h=CFG["top_h"], advance_learn=CFG["advance_learn"], beta1=CFG["beta1"],
                                  beta2=CFG["beta2"], total_step=CFG["total_step"], weight_decay=CFG["weight_decay"],
                                  tb_writter=None)
    assert alloc.incre_rank_num == 1 and alloc.target_rank == CFG["target_rank"] * len(mods)

    # ---- step 0: forward/backward (hook scores), then update_and_increase(global_step=0): reserves, EMA, no growth
    ys0 = model(xs0)
    sum((y * g).sum() for y, g in zip(ys0, Gs0)).backward()
    score0 = [m.score.detach().clone() for m in mods]
    _, thr0 = alloc.update_and_increase(model, 0, optimizer)
    assert thr0 is None
    reserve0 = [(m.lora_A[-1].detach().clone(), m.lora_B[-1].detach().clone(), m.lora_E[-1].detach().clone()) for m in mods]
    avg_ipt0 = [alloc.exp_avg_ipt[f"m{k}"].detach().clone() for k in range(len(mods))]
    avg_unc0 = [alloc.exp_avg_unc[f"m{k}"].detach().clone() for k in range(len(mods))]
    model.zero_grad()

    # ---- step 1: forward (now with the reserve component), backward, update_and_increase(global_step=1): growth
    state1 = [cat_state(m) for m in mods]
    rank1 = [float(m.ranknum) for m in mods]
    ys1 = model(xs1)
    sum((y * g).sum() for y, g in zip(ys1, Gs1)).backward()
    score1 = [m.score.detach().clone() for m in mods]
    grads1 = [(cat_grad(m.lora_A, 0), cat_grad(m.lora_E, 0), cat_grad(m.lora_B, 1)) for m in mods]
    E_trainable1 = [[int(e.requires_grad) for e in m.lora_E] for m in mods]
    with torch.no_grad():
        dW1 = [m.W(m.lora_A, m.lora_E, m.lora_B, m.scaling, m.ranknum).detach().clone() for m in mods]
    total_before = alloc.total_rank
    _, thr1 = alloc.update_and_increase(model, 1, optimizer)
    ipt_score = [alloc.calculate_score(f"m{k}", m) for k, m in enumerate(mods)]
    grown = [int(float(m.ranknum) > r) for m, r in zip(mods, rank1)]
    after = [cat_state(m) for m in mods]
    E_trainable_after = [[int(e.requires_grad) for e in m.lora_E] for m in mods]
    counts = [sum(p.numel() for n, p in m.named_parameters() if p.requires_grad and "lora_" in n) for m in mods]

    # ---- self-checks of the README recipe
    for k, (m, (i, o)) in enumerate(zip(mods, SHAPES)):
        A, E, B = (t.double() for t in state1[k])
        s = CFG["lora_alpha"] / (rank1[k] + 1e-5)
        dW = (B @ (A * E)) * s
        io.assert_close(f"m{k}.delta_w", dW, dW1[k])
        W, b = m.weight.double(), m.bias.double()
        yk = xs1[k].double() @ (W + dW).T + b
        io.assert_close(f"m{k}.y1", yk, ys1[k])
        gW = Gs1[k].double().T @ xs1[k].double()  # dL/d(delta W)
        io.assert_close(f"m{k}.score1", (dW.abs() * gW).abs().sum() / math.sqrt(dW.numel()), score1[k], atol=0)
        io.assert_close(f"m{k}.grad_A", s * (B.T @ gW) * E, grads1[k][0])
        gE = s * ((B.T @ gW) * A).sum(1, keepdim=True) * torch.tensor(E_trainable1[k], dtype=torch.float64)[:, None]
        io.assert_close(f"m{k}.grad_E", gE, grads1[k][1])
        io.assert_close(f"m{k}.grad_B", s * gW @ (A * E).T, grads1[k][2])
        io.assert_close(f"m{k}.y_init", xs0[k].double() @ W.T + b, y_init[k])
        a0 = (1 - CFG["beta1"]) * score0[k].double()
        u0 = (1 - CFG["beta2"]) * (score0[k].double() - a0).abs()
        io.assert_close(f"m{k}.avg_ipt0", a0, avg_ipt0[k], atol=0)
        io.assert_close(f"m{k}.avg_unc0", u0, avg_unc0[k], atol=0)
        a1 = CFG["beta1"] * a0 + (1 - CFG["beta1"]) * score1[k].double()
        u1 = CFG["beta2"] * u0 + (1 - CFG["beta2"]) * (score1[k].double() - a1).abs()
        io.assert_close(f"m{k}.ipt_score", a1 * u1, ipt_score[k], atol=0)
        adv = CFG["advance_learn"]
        want = int(float(m.ranknum)) * (i + o + 1) + (alloc.incre_rank_num * (i + o) if adv else 0)
        assert counts[k] == want, (k, counts[k], want)
    kk = min(CFG["top_h"], alloc.target_rank - total_before)
    thr = sorted((float(s) for s in ipt_score), reverse=True)[kk - 1]
    assert abs(thr - thr1) <= 1e-12 * max(1.0, abs(thr)), (thr, thr1)
    assert grown == [int(float(s) >= thr1) for s in ipt_score]

    for k, m in enumerate(mods):
        p = f"m{k}."
        T.update({
            p + "W": m.weight, p + "bias": m.bias,
            p + "A_init": init[k][0], p + "B_init": init[k][1], p + "E_set": E_set[k],
            p + "x0": xs0[k], p + "G0": Gs0[k], p + "y_init": y_init[k], p + "y0": ys0[k], p + "score0": score0[k],
            p + "reserve_a0": reserve0[k][0], p + "reserve_b0": reserve0[k][1], p + "reserve_e0": reserve0[k][2],
            p + "avg_ipt0": avg_ipt0[k], p + "avg_unc0": avg_unc0[k],
            p + "x1": xs1[k], p + "G1": Gs1[k],
            p + "A1": state1[k][0], p + "E1": state1[k][1], p + "B1": state1[k][2], p + "ranknum1": torch.tensor(rank1[k]),
            p + "delta_w1": dW1[k], p + "y1": ys1[k], p + "score1": score1[k],
            p + "grad_A1": grads1[k][0], p + "grad_E1": grads1[k][1], p + "grad_B1": grads1[k][2],
            p + "E_trainable1": torch.tensor(E_trainable1[k], dtype=torch.int32),
            p + "avg_ipt1": alloc.exp_avg_ipt[f"m{k}"].detach().clone(), p + "avg_unc1": alloc.exp_avg_unc[f"m{k}"].detach().clone(),
            p + "ipt_score1": ipt_score[k].detach().clone(),
            p + "A_after": after[k][0], p + "E_after": after[k][1], p + "B_after": after[k][2],
            p + "ranknum_after": m.ranknum.detach().clone(),
            p + "E_trainable_after": torch.tensor(E_trainable_after[k], dtype=torch.int32),
        })
        i, o = SHAPES[k]
        M.update({
            p + "W": f"base nn.Linear weight [{o}, {i}] (frozen)", p + "bias": "base bias (frozen in their run_glue.py: only names containing the trainable keys, e.g. lora, train)",
            p + "A_init": "lora_A[0] at init [r=1, in]: normal(0, 0.02)",
            p + "B_init": "lora_B[0] at init [out, r=1]: normal(0, 0.02)",
            p + "E_set": "lora_E[0] [1, 1] as set by us (init is zeros) and used from step 0 on",
            p + "x0": "step-0 input [n, in]", p + "G0": "step-0 upstream gradient (loss sum(y0*G0) over modules)",
            p + "y_init": "output of the untouched init (E = 0): x0 @ W.T + bias",
            p + "y0": "step-0 output (A_init, E_set, B_init, ranknum 1; no reserve yet)",
            p + "score0": "module score from the backward hook at step 0: sum(|dW| * |dL/d dW|) / sqrt(numel)",
            p + "reserve_a0": "reserve lora_A[-1] [1, in] added by update_and_increase(step 0): normal(0, 0.02), trainable (advance_learn)",
            p + "reserve_b0": "reserve lora_B[-1] [out, 1]: normal(0, 0.02), trainable (advance_learn)",
            p + "reserve_e0": "reserve lora_E[-1] [1, 1] = 1e-5, requires_grad False until the module grows",
            p + "avg_ipt0": "exp_avg_ipt after step 0 = (1-beta1)*score0", p + "avg_unc0": "exp_avg_unc after step 0 = (1-beta2)*|score0 - avg_ipt0|",
            p + "x1": "step-1 input", p + "G1": "step-1 upstream gradient",
            p + "A1": "cat(lora_A) used at step 1 [2, in] (row 0 initial, row 1 reserve)",
            p + "E1": "cat(lora_E) at step 1 [2, 1] (E_set, 1e-5)", p + "B1": "cat(lora_B) at step 1 [out, 2]",
            p + "ranknum1": "ranknum at step 1 (1.0; the reserve is not counted)",
            p + "delta_w1": "loraW at step 1: B1 @ (A1 * E1) * lora_alpha / (ranknum1 + 1e-5)",
            p + "y1": "step-1 output x1 @ (W + delta_w1).T + bias",
            p + "score1": "module score from the hook at step 1",
            p + "grad_A1": "dL/d cat(lora_A) at step 1", p + "grad_B1": "dL/d cat(lora_B) at step 1",
            p + "grad_E1": "dL/d cat(lora_E) at step 1; 0 where E_trainable1 is 0 (the frozen reserve e)",
            p + "E_trainable1": "requires_grad of each lora_E entry at step 1 (I32)",
            p + "avg_ipt1": "exp_avg_ipt after step 1", p + "avg_unc1": "exp_avg_unc after step 1",
            p + "ipt_score1": "allocation score = avg_ipt1 * avg_unc1 (calculate_score metric 'ipt')",
            p + "A_after": "cat(lora_A) after the allocation at step 1 (grown modules got one more reserve row)",
            p + "E_after": "cat(lora_E) after the allocation", p + "B_after": "cat(lora_B) after the allocation",
            p + "ranknum_after": "ranknum after the allocation [1]",
            p + "E_trainable_after": "requires_grad of each lora_E entry after the allocation (I32)",
        })
    T["increase_threshold"] = torch.tensor(thr1, dtype=torch.float32)
    T["grown"] = torch.tensor(grown, dtype=torch.int32)
    M["increase_threshold"] = "threshold returned by increase_to_target_rank at step 1: k-th largest ipt_score1, k = min(top_h, target_total - total_rank)"
    M["grown"] = "I32 [modules]: 1 where ipt_score1 >= threshold (ranknum grew by incre_rank_num)"

    case = {
        "method": "increlora",
        "modules": [{"name": f"m{k}", "in_features": i, "out_features": o} for k, (i, o) in enumerate(SHAPES)],
        "config": CFG,
        "incre_rank_num": alloc.incre_rank_num,
        "target_total_rank": alloc.target_rank,
        "total_rank_before": total_before,
        "total_rank_after": alloc.total_rank,
        "scaling": CFG["lora_alpha"],
        "n": N,
        "trainable_parameters_after": {f"m{k}": c for k, c in enumerate(counts)},
        "trainable_formula": "ranknum*(in+out+1) + incre_rank_num*(in+out) while the reserve is trainable (advance_learn=True); ranknum*(in+out+1) without advance_learn",
        "losses": {"step0": float(sum((y * g).sum() for y, g in zip(ys0, Gs0))), "step1": float(sum((y * g).sum() for y, g in zip(ys1, Gs1)))},
        "tolerance_overrides": {
            "names": ["m*.score0", "m*.score1", "m*.avg_ipt0", "m*.avg_unc0", "m*.avg_ipt1", "m*.avg_unc1",
                      "m*.ipt_score1", "increase_threshold", "m*.reserve_e0", "m*.E1", "m*.E_after"],
            "rtol": 1e-4, "atol": 0.0,
            "why": "these values are ~1e-6..1e-2 (and E holds the 1e-5 reserve); the default atol 1e-5 would not test them",
        },
        "dtype": "float32",
        "seeds": "manual_seed(40) modules, 41 inputs/G/E_set; reserve params drawn from the global RNG inside add_reserve_param",
    }
    notes = (
        "SVDLinear: delta W = cat(B) @ (cat(A) * cat(E)) * lora_alpha / (ranknum + 1e-5); E zero and A, B N(0, 0.02) at init. "
        "Score per module from a full backward hook on loraW: sum(|dW * dL/d dW|)/sqrt(numel); EMA sensitivity/uncertainty "
        "(beta1, beta2); the top-k modules by ipt*unc grow by incre_rank_num: the pre-added reserve E (1e-5) becomes trainable "
        "and a new reserve (A, B ~ N(0, 0.02) trainable, E = 1e-5 frozen) is appended. Optimizer never stepped (lr 0 SGD)."
    )
    prov = io.provenance("increlora", "IncreLoRA: Incremental Parameter Allocation Method for Parameter-Efficient Fine-tuning (Zhang et al., 2023)",
                         REPOSITORY, COMMIT, sorted(PINNED),
                         ["SVDLinear", "loraW", "SVDLinear.backward_hook", "SVDLinear.add_reserve_param", "RankAllocator.update_and_increase",
                          "RankAllocator.update_ipt", "RankAllocator.calculate_score", "RankAllocator.increase_to_target_rank"],
                         notes, PINNED, args.repo)
    size = io.write_fixture(args.out, prov, case, T, M)
    print(f"increlora: wrote {args.out} ({size} bytes of tensors)")


if __name__ == "__main__":
    main()
