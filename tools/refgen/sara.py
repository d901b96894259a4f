"""Reference fixture for SaRA (Hu et al. 2024), from the authors' code sjtuplayer/SaRA.

Runs the authors' optimizers (our code only builds a tiny model, feeds data and records):
  * optim/adamw.py  : class AdamW (the default "unstructural backpropagation" path used by
                      examples/finetune.py when --disable_ub is not given), its Sparse
                      autograd.Function, set_mask_param / update_params / nuclear_norm / step.
  * optim/adamw2.py : class AdamW (the --disable_ub path: dense parameters, masked update).
No stubs are needed: both files import only torch.

Usage: /usr/bin/python3 tools/refgen/sara.py --repo ../refs/src/SaRA --out test/fixtures/reference/sara
"""
import argparse
import importlib.util
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_selective import TensorBag, git_head, setup_torch, write_fixture  # noqa: E402

DIMS = dict(n=5, d_in=16, d_hidden=12, d_out=8)
THRESHOLD = 0.02
LR = 0.01
PROGRESSIVE_ITER = 2
N_STEPS = 4
NUC_LAMBDA = 0.5
NUC_SHAPE = (66, 65)   # authors only regularise 2-D params with min(shape) > 64
NUC_THRESHOLD = 0.01


def load(repo, rel, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(repo, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_model(torch, W):
    import torch.nn as nn
    m = nn.Sequential(nn.Linear(DIMS["d_in"], DIMS["d_hidden"]), nn.Tanh(),
                      nn.Linear(DIMS["d_hidden"], DIMS["d_out"]))
    with torch.no_grad():
        m[0].weight.copy_(W["fc1.weight"]); m[0].bias.copy_(W["fc1.bias"])
        m[2].weight.copy_(W["fc2.weight"]); m[2].bias.copy_(W["fc2.bias"])
    return m


NAMES = [("fc1.weight", "0.weight"), ("fc1.bias", "0.bias"), ("fc2.weight", "2.weight"),
         ("fc2.bias", "2.bias")]


def model_weights(m):
    return [m[0].weight, m[0].bias, m[2].weight, m[2].bias]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch = setup_torch(0)
    random.seed(0)
    ub = load(args.repo, "optim/adamw.py", "sara_adamw")
    dense = load(args.repo, "optim/adamw2.py", "sara_adamw2")

    bag = TensorBag()
    g = torch.Generator().manual_seed(1234)
    W0 = {
        "fc1.weight": torch.randn(DIMS["d_hidden"], DIMS["d_in"], generator=g) * 0.1,
        "fc1.bias": torch.randn(DIMS["d_hidden"], generator=g) * 0.1,
        "fc2.weight": torch.randn(DIMS["d_out"], DIMS["d_hidden"], generator=g) * 0.1,
        "fc2.bias": torch.randn(DIMS["d_out"], generator=g) * 0.1,
    }
    x = torch.randn(DIMS["n"], DIMS["d_in"], generator=g)
    G = torch.randn(DIMS["n"], DIMS["d_out"], generator=g)
    for k, v in W0.items():
        bag.add(f"W0.{k}", v, f"pretrained {k} before SaRA touches it")
    bag.add("x", x, "input batch [n, d_in]")
    bag.add("G", G, "loss weights: L = sum(y * G)")

    # ---------------- default path: optim/adamw.py (unstructural backprop) ----------------
    m = build_model(torch, W0)
    opt = ub.AdamW(m, lr=LR, threshold=THRESHOLD, progressive_iter=PROGRESSIVE_ITER, lambda_rank=0)
    steps = []
    for k, (name, _) in enumerate(NAMES):
        bag.add(f"ub.mask0.{name}", opt.param_mask_groups[k], "initial selection |W0| < threshold (1 = trainable)")
        bag.add(f"ub.trainable0.{name}", opt.param_groups[0]["params"][k],
                "initial trainable vector = W0[mask0] (row-major order of the mask's True entries)")
        bag.add(f"ub.W_model_init.{name}", model_weights(m)[k],
                "weight the model actually holds right after AdamW(...): selected entries replaced by |w| (quirk, adamw.py:127)")
    for step in range(1, N_STEPS + 1):
        y = m(x)
        L = (y * G).sum()
        L.backward()
        rec = {"step": step, "loss": float(L)}
        bag.add(f"ub.step{step}.y", y, f"forward output before optimizer step {step}")
        for k, (name, _) in enumerate(NAMES):
            p = opt.param_groups[0]["params"][k]
            bag.add(f"ub.step{step}.grad.{name}", p.grad,
                    f"dL/d(trainable vector) before step {step} (Sparse.backward -> grad[mask], times sign(w) on the first step after a (re)selection because of .abs())")
        ret = opt.step()
        opt.zero_grad()
        rec["returned"] = None if ret is None else float(ret)
        rec["adam_state_entries"] = len(opt.state)
        reselect = step == PROGRESSIVE_ITER + 1
        rec["reselection_step"] = reselect
        for k, (name, _) in enumerate(NAMES):
            bag.add(f"ub.step{step}.W_model.{name}", model_weights(m)[k],
                    f"model weight after optimizer step {step}")
            if reselect:
                bag.add(f"ub.mask1.{name}", opt.param_mask_groups_adaptive[k],
                        "re-selected mask |W_current| < threshold computed at step progressive_iter+1")
                bag.add(f"ub.trainable1.{name}", opt.param_groups[0]["params"][k],
                        "new trainable vector = W_after_step2[mask1] (signed, cloned before the |w| write)")
            else:
                st = opt.state[opt.param_groups[0]["params"][k]]
                bag.add(f"ub.step{step}.exp_avg.{name}", st["exp_avg"], "Adam m, one entry per selected weight")
                bag.add(f"ub.step{step}.exp_avg_sq.{name}", st["exp_avg_sq"], "Adam v, one entry per selected weight")
                rec["adam_step_count"] = float(st["step"])
        steps.append(rec)
    ub_counts = {name: int(opt.param_mask_groups[k].sum()) for k, (name, _) in enumerate(NAMES)}
    ub_counts1 = {name: int(opt.param_mask_groups_adaptive[k].sum()) for k, (name, _) in enumerate(NAMES)}

    # ---------------- --disable_ub path: optim/adamw2.py (dense params, masked update) ------
    m2 = build_model(torch, W0)
    opt2 = dense.AdamW(list(m2.parameters()), lr=LR, threshold=THRESHOLD,
                       progressive_iter=PROGRESSIVE_ITER, lambda_rank=0)
    steps2 = []
    for k, (name, _) in enumerate(NAMES):
        bag.add(f"dense.mask0.{name}", opt2.param_mask_groups[k], "initial selection |W0| < threshold")
    for step in range(1, N_STEPS + 1):
        y = m2(x)
        L = (y * G).sum()
        L.backward()
        bag.add(f"dense.step{step}.y", y, f"forward output before step {step} (adamw2 path)")
        opt2.step()
        opt2.zero_grad()
        steps2.append({"step": step, "loss": float(L)})
        for k, (name, _) in enumerate(NAMES):
            bag.add(f"dense.step{step}.W.{name}", model_weights(m2)[k], f"weight after step {step} (adamw2 path)")
            if step == PROGRESSIVE_ITER + 1:
                bag.add(f"dense.mask1.{name}", opt2.param_mask_groups_adaptive[k],
                        "re-selected mask = (|W_current| < threshold) AND mask0 (adamw2.py:120-123)")

    # ---------------- nuclear-norm term ------------------------------------------------------
    # (a) the function itself on the masked fc1 weight
    Wn = W0["fc1.weight"].clone().requires_grad_(True)
    Mn = (W0["fc1.weight"].abs() < THRESHOLD)
    val = ub.AdamW.nuclear_norm(None, Wn * Mn)
    (NUC_LAMBDA * val).backward()
    bag.add("nuc.mask", Mn, "mask used: |W0.fc1.weight| < threshold")
    bag.add("nuc.grad", Wn.grad, "d/dW of lambda * ||W * mask||_* (= lambda * mask * U V^T), W = W0.fc1.weight")
    nuc_value = float(val)

    # (b) inside the optimizers: one step with no task loss, only the rank term, on a 66x65 matrix
    gn = torch.Generator().manual_seed(99)
    Wbig = torch.randn(*NUC_SHAPE, generator=gn) * 0.05
    bag.add("nucopt.W0", Wbig, f"{NUC_SHAPE} weight (min dim > 64, so it is in low_rank_ids)")
    lin = torch.nn.Linear(NUC_SHAPE[1], NUC_SHAPE[0], bias=False)
    with torch.no_grad():
        lin.weight.copy_(Wbig)
    random.seed(0)
    opt3 = dense.AdamW(list(lin.parameters()), lr=LR, threshold=NUC_THRESHOLD, lambda_rank=NUC_LAMBDA,
                       progressive_iter=1000)
    mask_big = opt3.param_mask_groups[0].clone()
    bag.add("nucopt.mask_index", mask_big.flatten().nonzero().flatten().to(torch.int32),
            "flat (row-major) indices of the selected entries |W0| < nuc_threshold")
    opt3.step()
    bag.add("nucopt.dense.grad", lin.weight.grad, "grad left on the param by the rank term (adamw2: lambda * mask * U V^T of W*mask)")
    bag.add("nucopt.dense.W1", lin.weight, "weight after one adamw2 step driven only by the rank term")
    lin2 = torch.nn.Linear(NUC_SHAPE[1], NUC_SHAPE[0], bias=False)
    with torch.no_grad():
        lin2.weight.copy_(Wbig)
    src = lin2.weight
    random.seed(0)
    opt4 = ub.AdamW(lin2, lr=LR, threshold=NUC_THRESHOLD, lambda_rank=NUC_LAMBDA, progressive_iter=1000)
    W_before = lin2.weight.detach().clone()
    opt4.step()
    ub_src_grad = src.grad
    ub_trainable_grad = opt4.param_groups[0]["params"][0].grad
    bag.add("nucopt.ub.W_model_before", W_before, "adamw.py model weight after construction (|w| quirk on selected entries)")
    bag.add("nucopt.ub.source_param_grad", ub_src_grad,
            "adamw.py: the rank term's gradient lands on the ORIGINAL nn.Parameter (.grad), not on the optimizer's trainable vector")
    bag.add("nucopt.ub.W_model_after", lin2.weight, "adamw.py model weight after the step: unchanged (no update happened)")
    ub_nuc_dead = {
        "trainable_vector_grad_is_None": ub_trainable_grad is None,
        "weight_changed": bool((lin2.weight.detach() - W_before).abs().max() > 0),
        "source_param_grad_nonzero": bool(ub_src_grad is not None and ub_src_grad.abs().max() > 0),
    }

    # ---------------- the argparse default progressive_iter=-1 -------------------------------
    default_pi = {}
    for label, mod, arg in (("adamw_ub", ub, "module"), ("adamw2_dense", dense, "params")):
        mm = build_model(torch, W0)
        o = mod.AdamW(mm if arg == "module" else list(mm.parameters()), lr=LR, threshold=THRESHOLD)
        (mm(x) * G).sum().backward()
        try:
            o.step()
            default_pi[label] = "ok"
        except Exception as e:  # record what the authors' code does
            default_pi[label] = f"{type(e).__name__}: {e}"

    case = {
        "method": "sara",
        "config": {"dims": DIMS, "model": "y = fc2(tanh(fc1(x))), nn.Linear convention y = x @ W.T + b",
                   "threshold": THRESHOLD, "lr": LR, "betas": [0.9, 0.999], "eps": 1e-8,
                   "weight_decay": 0.01, "progressive_iter": PROGRESSIVE_ITER, "lambda_rank": 0,
                   "n_steps": N_STEPS, "loss": "L = sum(y * G), same x and G every step",
                   "authors_default_lr_formula": "lr = 1e-3 * exp(-350 * threshold) when lr is None (finetune.py never passes lr)",
                   "authors_defaults_finetune_sh": {"threshold": 2e-3, "progressive_iter": 2500, "lambda_rank": 5e-4,
                                                    "lr": 1e-3 * 2.718281828459045 ** (-0.7)}},
        "results": {
            "ub_selected_counts_mask0": ub_counts,
            "ub_selected_counts_mask1": ub_counts1,
            "ub_steps": steps,
            "dense_steps": steps2,
            "trainable_param_count_initial": sum(ub_counts.values()),
            "trainable_param_count_after_reselection": sum(ub_counts1.values()),
            "progressive_iter_default_minus1_first_step": default_pi,
            "nuclear_norm": {"lambda": NUC_LAMBDA, "value_of_norm_W0fc1_masked": nuc_value,
                             "loss_term": NUC_LAMBDA * nuc_value},
            "nuclear_norm_in_optimizer": {"shape": list(NUC_SHAPE), "threshold": NUC_THRESHOLD,
                                          "lambda": NUC_LAMBDA, "selected": int(mask_big.sum()),
                                          "adamw_ub_path": ub_nuc_dead},
        },
        "tolerance": {"rel": 1e-4, "abs": 1e-5, "rule": "|a-b| <= rel*|b| + abs",
                      "note": "masks and indices are exact; nuclear-norm gradient via SVD: use abs 1e-4"},
    }
    commit = git_head(args.repo)
    readme = README.format(commit=commit)
    write_fixture(
        args.out, method="sara",
        paper="SaRA: High-Efficient Diffusion Model Fine-tuning with Progressive Sparse Low-Rank Adaptation (Hu et al., 2024)",
        repository="sjtuplayer/SaRA", commit=commit,
        files_used=["optim/adamw.py", "optim/adamw2.py", "examples/finetune.py (read only: how the optimizer is built)", "finetune.sh (read only: defaults)"],
        objects_used=["optim.adamw.AdamW", "optim.adamw.Sparse", "optim.adamw.AdamW.nuclear_norm", "optim.adamw._single_tensor_adamw", "optim.adamw2.AdamW"],
        command="LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/refgen/sara.py --repo ../refs/src/SaRA --out test/fixtures/reference/sara",
        notes="Tiny tanh MLP instead of a UNet; all selection, masking, Adam and re-selection logic is the authors' optimizer code run unchanged. lr passed explicitly (0.01) so entries cross the threshold within two steps.",
        case=case, bag=bag, readme=readme)


README = r"""# SaRA reference fixture

Authors' code: `sjtuplayer/SaRA` @ `{commit}` (checked out at `../refs/src/SaRA`).
SaRA is implemented *entirely inside an optimizer*: `optim/adamw.py` (default path, called
"unstructural backpropagation", UB) and `optim/adamw2.py` (used by `examples/finetune.py`
with `--disable_ub`). `examples/finetune.py:574-607` builds it as
`AdamW(unet, betas, weight_decay, eps, threshold, progressive_iter, lambda_rank)`; it never
passes `lr`, so `lr = 1e-3 * exp(-350 * threshold)` (`adamw.py:97-98`), i.e. 4.97e-4 for the
`finetune.sh` setting threshold=2e-3 (also progressive_iter=2500, lambda_rank=5e-4).

The authors pin `torch==2.1.2` (requirements.txt); this fixture ran with torch 1.13. The code paths
exercised are the repository's own update loops; `Optimizer.__init__` resets `self.state` in both
versions, and nothing here depends on `zero_grad`'s default.

## Selection rule (both paths)
`mask = |W| < threshold` elementwise, for **every** parameter tensor of the model (weights,
biases, norms, conv kernels alike) (`adamw.py:152-163`, `adamw2.py:126-134`). The threshold is an
**absolute value**, not a fraction: the paper's "smallest 10-20 %" is what 2e-3 happens to
select in SD's UNet. Granularity: single entries.

## Default path, optim/adamw.py (UB)
* Construction (`adamw.py:112-129`): every `nn.Parameter` of the module is replaced by a plain
  tensor; for each parameter `p` the trainable object is the 1-D vector `v = p[mask].clone()`
  (row-major order of the True entries). **Adam state (`exp_avg`, `exp_avg_sq`, `step`) exists only
  for these vectors**: one entry per selected weight (`adamw.py:246-253`).
* Forward weight: `W_model = W` with `W_model[mask] = v` written **in place into the original
  parameter storage** by `Sparse.forward` (`adamw.py:9-20`); `Sparse.backward` returns
  `dL/dW_model[mask]` for `v` (dense gradient computed, then gathered).
* **Quirk**: at construction (and again at re-selection) the code writes `v.abs()` instead of `v`
  (`adamw.py:127`, `:205`). So until the first optimizer step after a (re)selection the model uses
  `|w|` on the selected entries, and the gradient reaching `v` is `sign(v) * dL/dW_model[mask]`
  (chain rule through `.abs()`; exactly 0 where w == 0). After the step, `_single_tensor_adamw`
  writes the signed updated `v` back (`adamw.py:439-441`). Tensors: `ub.W_model_init.*`,
  `ub.step1.grad.*`, `ub.step3.W_model.*`.
* Update per step (`adamw.py:387-438`, torch's AdamW): `v *= 1 - lr*wd`; `m = b1 m + (1-b1) g`;
  `s = b2 s + (1-b2) g^2`; `v -= lr/(1-b1^t) * m / (sqrt(s)/sqrt(1-b2^t) + eps)`; then `W[mask] = v`.
  Weight decay therefore touches selected entries only.
* Progressive re-selection (`adamw.py:200-211`): on the call with `inner_iter == progressive_iter+1`
  (here step 3): new mask `mask1 = |W_current| < threshold` on the full current weight (since
  unselected entries never moved, mask1 is a subset of mask0); new vectors `v1 = W_current[mask1]`;
  `Optimizer.__init__` is re-run, which **resets the Adam state** (t restarts at 1) and the lr to the
  constructor value; `|v1|` is written into the model; the step **returns without any update** (the
  gradient of that iteration is discarded). Later steps use `mask1`. Re-selection happens **once**.
  `save_params()` keeps using the *initial* mask (`adamw.py:170-175`), so after re-selection it saves
  entries of mask0, not mask1.
* `progressive_iter` must be set: with the argparse default `-1` both optimizers crash on their first
  `step()` (adamw.py reads `param_mask_groups_adaptive`, never set; adamw2.py indexes `None`) -
  recorded in `results.progressive_iter_default_minus1_first_step`. `finetune.sh` uses 2500.
  `inner_iter` counts `step()` calls.
* Nuclear-norm term (`adamw.py:213-219`): if `lambda_rank != 0`, each step picks
  `random.choice(low_rank_ids)` (Python RNG) among 2-D params with `min(shape) > 64`
  (`adamw.py:160-162`) and calls `(lambda_rank * ||W * mask||_*).backward()` with `||.||_* =
  sum of singular values` (`adamw.py:184-187`). The matrix regularised is the *current masked weight*
  (selected values), not a delta. **In this path the term has no effect**: the gradient flows to
  the original `nn.Parameter` objects (`self.source_params`), which are not what the optimizer
  updates (its params are the cloned vectors `v`). Fixture `nucopt.ub.*` shows it: grad on the source
  parameter, `v.grad` None, weight unchanged (`results.nuclear_norm_in_optimizer.adamw_ub_path`).

* Side effect of the parameter swap: `model.parameters()` now yields non-leaf tensors with no
  `.grad`, so `accelerator.clip_grad_norm_(unet.parameters(), max_grad_norm)` in
  `examples/finetune.py:835-837` clips nothing on this path (checked: `clip_grad_norm_` returns 0
  while the trainable vectors carry the gradient).

## --disable_ub path, optim/adamw2.py
* Parameters stay dense; Adam state is **dense** (full tensor size). Each step computes the AdamW
  update for the whole tensor and then restores the unselected entries:
  `p = p_new * mask + p_old * (1 - mask)` (`adamw2.py:322-394`). Moments of unselected entries still
  accumulate (they are just never applied).
* Re-selection at `inner_iter == progressive_iter+1`: `mask1 = (|W| < threshold) AND mask0`
  (`adamw2.py:120-123`); that step **does** update, Adam state is **kept**, no `abs()` quirk.
* Nuclear norm: same term, only if `mask.sum() > 100` (`adamw2.py:173-180`); here the gradient lands
  on the real parameter and *is* used by the step (fixture `nucopt.dense.*`).

## Tensors (see case.json for shapes)
Model: `h = tanh(x @ fc1.W.T + fc1.b)`, `y = h @ fc2.W.T + fc2.b`; loss `L = sum(y * G)`;
same `x`, `G` at every step; lr=0.01, wd=0.01, betas (0.9, 0.999), eps 1e-8, threshold=0.02,
progressive_iter=2, 4 steps, lambda_rank=0.
* `W0.*`, `x`, `G`: inputs. `ub.mask0.*` (I32 0/1), `ub.trainable0.*`: initial selection.
* `ub.W_model_init.*`: model weights after construction (|w| on mask0).
* `ub.step{{t}}.y`: forward before step t; `ub.step{{t}}.grad.*`: gradient of the trainable vectors;
  `ub.step{{t}}.W_model.*`: weights after step t; `ub.step{{t}}.exp_avg[_sq].*`: Adam moments
  (steps 1, 2, 4; step 3 is the re-selection step: `ub.mask1.*`, `ub.trainable1.*`, state reset).
* `dense.*`: the adamw2 path on the same data: `dense.mask0.*`, `dense.step{{t}}.y`,
  `dense.step{{t}}.W.*`, `dense.mask1.*`.
* `nuc.mask`, `nuc.grad`: `d/dW [0.5 * ||W0.fc1.weight * nuc.mask||_*]`; the norm value is
  `results.nuclear_norm.value_of_norm_W0fc1_masked`.
* `nucopt.*`: a 66x65 matrix, threshold 0.01, lambda 0.5, one step with *only* the rank term.
  `nucopt.mask_index` lists flat indices of the selected entries.

## How a test reproduces the numbers
1. `mask0 = |W0| < 0.02`; compare with `ub.mask0.*` exactly; `trainable0 = W0[mask0]` (row-major).
2. UB forward before step 1 uses `W0` with `W0[mask0]` replaced by `|W0[mask0]|` -> `ub.step1.y`;
   grad of `v` = `sign(v) * (dL/dW)[mask0]` -> `ub.step1.grad.*`.
3. AdamW on `v` -> `ub.step1.W_model.*`, moments `ub.step1.exp_avg*`. Step 2 the same without the
   sign factor (forward with signed values).
4. Step 3: `mask1 = |W_after_step2| < 0.02`, weights unchanged except the |w| write, state reset.
   Step 4: first Adam step (t=1) on `v1` with the sign factor again.
5. adamw2: dense masked AdamW, `mask1 = mask0 AND (|W| < thr)` at step 3, state not reset.
6. Nuclear norm: `lambda * sum(svd(W*mask).S)`; gradient `lambda * mask * (U @ V.T)`
   (use abs tol 1e-4; singular values here are distinct).
"""

if __name__ == "__main__":
    main()
