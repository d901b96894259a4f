"""Reference fixture for SPT (Sensitivity-Aware Visual Parameter-Efficient Fine-Tuning,
He et al. ICCV 2023), from the authors' code ziplab/SPT.

Authors' code that runs (imported from --repo at run time):
  * engine.py                      : get_sensitivity (sensitivity accumulation, top-tau sweep,
                                     structured/unstructured decision per matrix and vector,
                                     budget matching) and get_structured_param_num
  * model/vision_transformer_timm.py: BlockSepQKV / AttentionSepQKV / Mlp (the backbone blocks of the
                                     tiny ViT we build), LinearSPTSparseGrad + SparseGradLinearFunction
                                     (unstructured tuning), StructuredTuningModule (LoRA branch)
Stubs and shims (ours): timm.* (not installed; only names imported at module level, none used on
this path), tqdm (identity). get_sensitivity is written for CUDA: torch.cuda.synchronize is made a
no-op and `torch.zeros_like(..., device='cuda')` is served on CPU through a proxy of engine's
`torch` name. Its sweep grid is hard-coded for ViT-B (top ceil(0.02*j*1e6) entries, j=1..79); for
this 1,216-entry model the proxy of engine's `math` multiplies the argument of math.ceil by
SWEEP_SCALE, so step j selects about 15*j entries. lib.utils.save_on_master is replaced by a
recorder (it would torch.save each config). Our own code: the tiny model wrapper (patch
projection, tokens, norm, head), data, and recording.

Usage: /usr/bin/python3 tools/refgen/spt.py --repo ../refs/src/SPT --out test/fixtures/reference/spt
"""
import argparse
import importlib.util
import math
import os
import sys
import tempfile
import types
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_selective import TensorBag, git_head, setup_torch, stub_module, write_fixture  # noqa: E402

DIM, HEADS, MLP_RATIO, DEPTH, N_PATCH, PATCH_DIM, N_CLS = 8, 2, 2.0, 2, 4, 12, 3
BATCH, N_BATCHES_GIVEN, SENS_BATCH_NUM = 4, 4, 3
LOW_RANK = 2
ALPHA, BETA = 2.0, 5.0
SWEEP_SCALE = 7.5e-4


def install_stubs(torch):
    import torch.nn as nn

    class PatchEmbed(nn.Module):
        pass

    def _unused(*a, **k):
        raise RuntimeError("stub called")

    stub_module("tqdm", tqdm=lambda it, *a, **k: it)
    stub_module("timm")
    stub_module("timm.data", Mixup=object, IMAGENET_DEFAULT_MEAN=(0.485, 0.456, 0.406),
                IMAGENET_DEFAULT_STD=(0.229, 0.224, 0.225), IMAGENET_INCEPTION_MEAN=(0.5, 0.5, 0.5),
                IMAGENET_INCEPTION_STD=(0.5, 0.5, 0.5))
    stub_module("timm.utils", accuracy=_unused, ModelEma=object)
    stub_module("timm.models")
    stub_module("timm.models.helpers", build_model_with_cfg=_unused, named_apply=_unused, adapt_input_conv=_unused)
    stub_module("timm.models.layers", PatchEmbed=PatchEmbed, DropPath=lambda p: nn.Identity(),
                trunc_normal_=nn.init.trunc_normal_, lecun_normal_=_unused)
    stub_module("timm.models.registry", register_model=lambda f: f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    out = os.path.abspath(args.out)
    torch = setup_torch(0)
    import torch.nn as nn
    install_stubs(torch)
    sys.path.insert(0, repo)
    spec = importlib.util.spec_from_file_location("spt_vit", os.path.join(repo, "model/vision_transformer_timm.py"))
    vit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vit)
    import engine
    from lib import utils as lib_utils

    # ---------------- tiny ViT with the authors' blocks and their parameter names -------------
    class Proj(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(PATCH_DIM, DIM)

    class TinyViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = Proj()
            self.cls_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
            self.pos_embed = nn.Parameter(torch.randn(1, N_PATCH + 1, DIM) * 0.02)
            ln = partial(nn.LayerNorm, eps=1e-6)
            self.blocks = nn.Sequential(*[vit.BlockSepQKV(DIM, HEADS, mlp_ratio=MLP_RATIO, qkv_bias=True, norm_layer=ln)
                                          for _ in range(DEPTH)])
            self.norm = ln(DIM)
            self.head = nn.Linear(DIM, N_CLS)

        def forward(self, x):
            t = self.patch_embed.proj(x)
            t = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), t], dim=1) + self.pos_embed
            t = self.norm(self.blocks(t))
            return self.head(t[:, 0])

    g = torch.Generator().manual_seed(5)
    model = TinyViT()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    batches = [(torch.randn(BATCH, N_PATCH, PATCH_DIM, generator=g), torch.randint(0, N_CLS, (BATCH,), generator=g))
               for _ in range(N_BATCHES_GIVEN)]

    bag = TensorBag()
    for name, p in model.named_parameters():
        bag.add(f"param.{name}", p, "backbone parameter (pretrained stand-in)")
    for i, (xb, yb) in enumerate(batches):
        bag.add(f"batch{i}.x", xb, f"sensitivity batch {i}: pre-flattened patches [B, {N_PATCH}, {PATCH_DIM}]" +
                (" (NOT used: only the first sensitivity_batch_num batches are)" if i >= SENS_BATCH_NUM else ""))
        bag.add(f"batch{i}.y", yb.to(torch.int32), f"labels of batch {i}")

    # per-batch gradients for the record (same computation get_sensitivity does, ours)
    crit = nn.CrossEntropyLoss()
    model.train()
    per_batch_sq = []
    batch_losses = []
    for i in range(SENS_BATCH_NUM):
        model.zero_grad()
        logits = model(batches[i][0])
        loss_i = crit(logits, batches[i][1])
        loss_i.backward()
        batch_losses.append(float(loss_i))
        bag.add(f"logits_batch{i}", logits, f"model output on batch {i} (train mode; no dropout anywhere)")
        per_batch_sq.append({n: p.grad.detach().clone() for n, p in model.named_parameters()})
    for name, _ in model.named_parameters():
        if not any(k in name for k in ["head", "cls_token", "patch_embed", "pos_embed"]):
            for i in range(SENS_BATCH_NUM):
                bag.add(f"grad_batch{i}.{name}", per_batch_sq[i][name], f"dCE/d{name} on batch {i} (mean over the batch)")

    # ---------------- shims around get_sensitivity ----------------------------------------------
    ceil_args = []

    class MathProxy(types.ModuleType):
        def __getattr__(self, k):
            return getattr(math, k)

    mproxy = MathProxy("math_proxy")

    def scaled_ceil(v):
        r = math.ceil(v * SWEEP_SCALE)
        ceil_args.append(r)
        return r
    mproxy.ceil = scaled_ceil

    class TorchProxy(types.ModuleType):
        def __getattr__(self, k):
            return getattr(torch, k)

    tproxy = TorchProxy("torch_proxy")

    def zeros_like_cpu(t, *a, device=None, **k):
        return torch.zeros_like(t, *a, **k)
    tproxy.zeros_like = zeros_like_cpu

    saves = []

    def record_save(obj, path):
        saves.append((len(ceil_args), path, obj))

    engine.math = mproxy
    engine.torch = tproxy
    lib_utils.save_on_master = record_save
    engine.utils.save_on_master = record_save
    real_sync = torch.cuda.synchronize
    torch.cuda.synchronize = lambda *a, **k: None
    cwd = os.getcwd()
    tmp = tempfile.mkdtemp(prefix="spt_refgen_")
    os.chdir(tmp)
    try:
        engine.get_sensitivity(model, crit, batches, torch.device("cpu"), amp=False, dataset="tiny",
                               low_rank_dim=LOW_RANK, structured_vector=True, exp_name="fixture",
                               structured_type="lora", alpha=ALPHA, beta=BETA, structured_only=False,
                               sensitivity_batch_num=SENS_BATCH_NUM)
    finally:
        os.chdir(cwd)
        torch.cuda.synchronize = real_sync
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    # the sensitivity itself: grad_dict is local, so recompute it exactly as engine.py:124-155 does
    sens = {n: sum(per_batch_sq[i][n] ** 2 for i in range(SENS_BATCH_NUM)) for n, _ in model.named_parameters()}

    # one record per sweep step j (several budget keys may save the same config)
    by_step = {}
    for n_ceil, path, res in saves:
        by_step[n_ceil] = (path, res)
    keys = [n for n, _ in model.named_parameters() if not any(k in n for k in ["head", "cls_token", "patch_embed", "pos_embed"])]
    total_entries = sum(sens[k].numel() for k in keys)
    sweep = []
    assert len(ceil_args) == 79 and sorted(by_step) == list(range(1, 80)), "expected a save at every sweep step"
    for j in sorted(by_step):
        path, res = by_step[j]
        k_sel = ceil_args[j - 1]
        structured = [f"blocks.{b}.{['attn.q', 'attn.k', 'attn.v', 'attn.proj', 'mlp.fc1', 'mlp.fc2'][o]}.weight"
                      for b in range(len(res["tuned_matrices"])) for o in range(6) if res["tuned_matrices"][b][o]]
        sweep.append({"j": j, "top_k_entries": k_sel, "structured_matrices": structured,
                      "tuned_vectors": list(res["tuned_vectors"]),
                      "unstructured_tensors": list(res["unstructured_name_shapes"].keys()),
                      "unstructured_params": float(res["unstructured_params"]),
                      "structured_params": int(res["structured_params"]),
                      "params_field_in_M": float(res["params"])})

    def short(n):
        return n.replace("blocks.", "").replace(".weight", ".W").replace(".bias", ".b")
    sweep_compact = [{"j": r["j"], "k": r["top_k_entries"],
                      "structured": [short(n) for n in r["structured_matrices"]],
                      "vectors": [short(n) for n in r["tuned_vectors"]],
                      "unstructured_entries": r["unstructured_params"], "structured_params": r["structured_params"]}
                     for r in sweep]

    # choose the step with the most even structured / unstructured split among the 12 matrices
    def score(s):
        n_struct = len(s["structured_matrices"])
        n_unstr_mat = sum(1 for t in s["unstructured_tensors"] if t.endswith(".weight") and "norm" not in t)
        return -abs(n_struct - n_unstr_mat), n_struct
    chosen = max(sweep, key=score)
    j_star = chosen["j"]
    res = by_step[j_star][1]
    k_star = chosen["top_k_entries"]

    # reproduce the global top-k selection mask for the chosen step (engine.py:176-200 do this; ours to store)
    large = torch.cat([sens[k].flatten() for k in keys])
    _, idx = large.topk(k_star)
    sel = torch.zeros_like(large)
    sel[idx] = 1.0
    sel_split = sel.split([sens[k].numel() for k in keys])
    for k, s in zip(keys, sel_split):
        bag.add(f"sensitivity.{k}", sens[k], "sum over the first 3 batches of (dCE/dw)^2 (engine.py:124-155)")
        bag.add(f"selected.{k}", s.view(sens[k].shape).to(torch.int32),
                f"1 = among the global top-{k_star} most sensitive entries (sweep step j={j_star})")
    # consistency: our recomputed top-k reproduces the authors' saved unstructured indexes
    ours = torch.cat([sel_split[keys.index(t)] for t in res["unstructured_name_shapes"].keys()]).nonzero().flatten()
    assert torch.equal(ours, res["unstructured_indexes"]), "recomputed selection differs from the authors'"
    bag.add("chosen.unstructured_indexes", res["unstructured_indexes"].to(torch.int64),
            "authors' saved unstructured_indexes: flat positions in the concatenation (in key order) of the unstructured tensors only")
    bag.add("chosen.tuned_matrices", torch.tensor(res["tuned_matrices"], dtype=torch.int32),
            "authors' tuned_matrices [12 blocks x (q,k,v,proj,fc1,fc2)], 1 = structured (LoRA); only rows 0..1 exist here")

    # ---------------- unstructured tuning of one matrix: LinearSPTSparseGrad ----------------------
    unstr_mats = [t for t in chosen["unstructured_tensors"] if t.endswith(".weight") and "norm" not in t and (sel_split[keys.index(t)].sum() > 0)]
    target = unstr_mats[0]
    mod_name = target[: -len(".weight")]
    base = dict(model.named_modules())[mod_name]
    sparse = vit.LinearSPTSparseGrad(base.in_features, base.out_features, True)
    sparse.weight = nn.Parameter(base.weight.detach().clone(), requires_grad=False)
    sparse.bias = nn.Parameter(base.bias.detach().clone(), requires_grad=False)
    mask_t = sel_split[keys.index(target)].view(base.weight.shape)
    ind = (mask_t != 0).nonzero().t()           # as train_spt.py:341-344 + set_sparse_weight (minus .cuda())
    sparse.sparse_weight = nn.Parameter(0.1 * torch.randn(ind.shape[1], generator=g))
    sparse.sparse_weight_indexes = ind
    xs = torch.randn(2, N_PATCH + 1, base.in_features, generator=g, requires_grad=True)
    Gs = torch.randn(2, N_PATCH + 1, base.out_features, generator=g)
    ys = sparse(xs)
    (ys * Gs).sum().backward()
    bag.add("unstructured.indexes", ind.to(torch.int32), f"[2, n] (row, col) of the tuned entries of {target}")
    bag.add("unstructured.sparse_weight", sparse.sparse_weight, "trainable deltas (authors init them to 0; random here)")
    bag.add("unstructured.x", xs, "input [B, N, in] (their backward needs 3-D input)")
    bag.add("unstructured.G", Gs, "loss weights L = sum(y * G)")
    bag.add("unstructured.y", ys, "y = x @ (W + scatter(delta)).T + b")
    bag.add("unstructured.grad_sparse_weight", sparse.sparse_weight.grad, "their custom backward: diag(G^T[rows] @ x[..., cols])")
    bag.add("unstructured.grad_x", xs.grad, "dL/dx = G @ (W + scatter(delta))")

    # ---------------- structured tuning of one matrix: StructuredTuningModule (LoRA) ------------
    s_target = chosen["structured_matrices"][0]
    smod = dict(model.named_modules())[s_target[: -len(".weight")]]
    lora = vit.StructuredTuningModule(smod.in_features, smod.out_features, LOW_RANK, structured_type="lora",
                                      bias=True, no_structured_drop_path=True)
    with torch.no_grad():
        lora.learnable[1].weight.copy_(0.1 * torch.randn(lora.learnable[1].weight.shape, generator=g))
    lora.eval()
    xl = torch.randn(2, N_PATCH + 1, smod.in_features, generator=g)
    with torch.no_grad():
        delta = lora(xl)
        yl = smod(xl) + delta
    bag.add("lora.A", lora.learnable[0].weight, f"LoRA down [r, in] for {s_target} (kaiming_uniform a=sqrt(5), as initialised)")
    bag.add("lora.B", lora.learnable[1].weight, "LoRA up [out, r] (authors init zeros; random here)")
    bag.add("lora.x", xl, "input")
    bag.add("lora.delta", delta, "x @ A.T @ B.T (no alpha/r scaling, no bias)")
    bag.add("lora.y", yl, "W x + b + delta (parallel, as AttentionSPTParallel/MlpSPTParallel add it)")

    case = {
        "method": "spt",
        "config": {"model": {"dim": DIM, "heads": HEADS, "mlp_hidden": int(DIM * MLP_RATIO), "depth": DEPTH,
                             "tokens": N_PATCH + 1, "patch_dim": PATCH_DIM, "classes": N_CLS,
                             "forward": "t = [cls; x @ patch_embed.proj.W.T + b] + pos_embed; per block (authors' BlockSepQKV, LN eps 1e-6, exact GELU): t = t + proj(softmax(q k^T / sqrt(head_dim)) v); t = t + fc2(gelu(fc1(LN2(t)))), q/k/v/proj applied to LN1(t); logits = head(LN(t)[:, 0])"},
                   "batch_size": BATCH, "batches_given": N_BATCHES_GIVEN, "sensitivity_batch_num": SENS_BATCH_NUM,
                   "loss": "torch.nn.CrossEntropyLoss (mean over batch), model.train(), amp False",
                   "structured_type": "lora", "low_rank_dim": LOW_RANK, "alpha": ALPHA, "beta": BETA,
                   "structured_vector": True, "sweep_scale": SWEEP_SCALE,
                   "sweep_rule_here": "step j=1..79 selects top k = ceil((0.02*j*1e6)*sweep_scale) entries (about 15*j; exact k per step in results.sweep[].k)",
                   "authors_defaults": {"alpha": 10.0, "beta": 5.0, "low_rank_dim": 8, "batch_size": 32,
                                        "sensitivity_batch_num": 16, "amp": False, "structured_vector": True,
                                        "budgets_M": [1.0, 0.8, 0.6, 0.4, 0.2, 0.1, 0.05]}},
        "results": {"batch_losses": batch_losses, "non_skipped_entries": total_entries, "chosen_step": chosen,
                    "ranked_tensor_order": keys,
                    "sweep_note": "names shortened: 'blocks.' dropped, '.weight'->'.W', '.bias'->'.b'; unstructured = every other ranked tensor (possibly with 0 selected entries); unstructured_entries = total selected entries in them",
                    "sweep": sweep_compact,
                    "structured_param_num_lora_8x8": engine.get_structured_param_num("lora", in_dim=8, out_dim=8, low_rank_dim=LOW_RANK),
                    "structured_param_num_lora_fc1": engine.get_structured_param_num("lora", in_dim=8, out_dim=16, low_rank_dim=LOW_RANK),
                    "structured_param_num_lora_fc2": engine.get_structured_param_num("lora", in_dim=16, out_dim=8, low_rank_dim=LOW_RANK),
                    "structured_param_num_adapter_8x8": engine.get_structured_param_num("adapter", in_dim=8, out_dim=8, low_rank_dim=LOW_RANK),
                    "unstructured_example_tensor": target, "structured_example_tensor": s_target},
        "tolerance": {"rel": 1e-4, "abs": 1e-5, "rule": "|a-b| <= rel*|b| + abs",
                      "selection": "exact given the stored sensitivities; recomputed sensitivities may reorder near-ties (compare the top-k set only where gaps exceed 1e-4 relative)"},
    }
    commit = git_head(repo)
    write_fixture(
        out, method="spt",
        paper="Sensitivity-Aware Visual Parameter-Efficient Fine-Tuning (He et al., ICCV 2023)",
        repository="ziplab/SPT", commit=commit,
        files_used=["engine.py", "model/vision_transformer_timm.py", "lib/utils.py", "train_spt.py (read only)",
                    "configs/vtab_supervised_spt_lora_sensitivity.sh (read only)", "configs/vtab_supervised_spt_lora.sh (read only)"],
        objects_used=["engine.get_sensitivity", "engine.get_structured_param_num", "BlockSepQKV", "AttentionSepQKV", "Mlp",
                      "LinearSPTSparseGrad", "SparseGradLinearFunction", "StructuredTuningModule"],
        command="LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/refgen/spt.py --repo ../refs/src/SPT --out test/fixtures/reference/spt",
        notes="Tiny 2-block ViT built from the authors' BlockSepQKV; get_sensitivity run on CPU through shims (cuda sync no-op, zeros_like device dropped, sweep grid scaled by 7.5e-4, save_on_master recorded). Sensitivity tensors recomputed with the same formula because get_sensitivity keeps them local.",
        case=case, bag=bag, readme=README.format(commit=commit, k=k_star, j=j_star, target=target, s_target=s_target))


README = r"""# SPT reference fixture

Authors' code: `ziplab/SPT` @ `{commit}` (checked out at `../refs/src/SPT`). Method code:
`engine.py:92-305` (`get_structured_param_num`, `get_sensitivity`), `train_spt.py:299-365` (how the
saved selection is turned into a model), `model/vision_transformer_timm.py` (`StructuredTuningModule`
236-289, `AttentionSPTParallel` 291-364, `MlpSPTParallel` 465-508, `SparseGradLinearFunction` 1101-1163,
`LinearSPTSparseGrad` 1166-1187, `replace_linear` 1190-1223, `VisionTransformerSPT.freeze_stages` 1326-).

## Stage 1: sensitivity (`engine.py:112-159`)
`model.train()`; for the first `sensitivity_batch_num` batches (default 16, batch 32, training split,
`SequentialSampler` = first samples in order, no augmentation in the VTAB scripts, amp off by default):
`model.zero_grad(); loss = CE(model(x), y); loss.backward(); S[name] += grad**2` for every parameter.
So the per-entry sensitivity is `S = sum_b (dL_b/dw)^2`, each `L_b` a batch-mean cross-entropy
(squared per batch, then summed; not the square of the summed gradient).

## Stage 2: allocation (`engine.py:161-300`)
* Excluded from the ranking (always fully tuned or frozen): names containing `head`, `cls_token`,
  `patch_embed`, `pos_embed`. Everything else (all q/k/v/proj/fc1/fc2 weights and biases, all norms)
  is concatenated in `named_parameters()` order into one vector.
* Sweep `j = 1..79`, `tau = 0.02*j` (millions): take the global `top-ceil(tau*1e6)` entries of the
  concatenated sensitivities (`torch.topk`). Per tensor, count `c` = selected entries in it. Then, in
  this order of tests:
  * name contains `norm` or `bias` (vectors; `q.bias` counts as a vector): if `structured_vector` and
    1-D and `c >= len/beta` (beta=5) -> the **whole vector** is tuned (cost len); else its selected entries
    are tuned unstructured (cost c).
  * else name contains `.q.`, `.k.`, `.v.`, `proj`, `fc` (matrices): `cost = get_structured_param_num`
    = `in*r + r*out` for LoRA, `out*r + r*out + r + out` for adapter (`engine.py:92-98`, note the adapter
    formula uses out for the down input too); if `c >= cost/alpha` (alpha=10 in the scripts) -> this
    matrix gets a **LoRA/adapter** (structured, cost `cost`); else its `c` selected entries are tuned
    (unstructured, cost c).
  * `total = (unstructured + structured + 768)/1e6` (768 = the fully tuned cls token of ViT-B; the head
    is not counted). For each budget `k in {{1.0,0.8,0.6,0.4,0.2,0.1,0.05}}` (M) the sweep step whose
    total is closest to k is saved as `param_req_k.pth` (ties go to the later step).
* Saved per budget: `tuned_matrices` (12 x [q,k,v,proj,fc1,fc2] flags), `tuned_vectors`,
  `unstructured_name_shapes`, `unstructured_indexes` (flat positions inside the concatenation of the
  *unstructured tensors only*), counts.

## Stage 3: training with the selection (`train_spt.py:319-365`, model file)
* Structured matrices get a parallel branch: `y = W x + b + B(A(dropout(x)))` (`nn.Linear` A: in->r,
  B: r->out, no bias for LoRA, **no alpha/r scaling**; A kaiming_uniform(a=sqrt 5), B = 0; the branch
  input goes through `Dropout(0.1)` unless `--no_structured_drop_out`, the branch output through
  `DropPath(0.1)` unless `--no_structured_drop_path`). For the attention projection `proj` the branch
  input is the attention output.
* Unstructured tensors: the `nn.Linear` is replaced by `LinearSPTSparseGrad`; trainable
  `sparse_weight` (one scalar per selected entry, init 0) is scattered into a clone of the frozen weight:
  `W' = W; W'[rows, cols] += delta; y = x @ W'.T + b`; custom backward gives
  `d delta_i = sum_{{b,n}} G[b,n,row_i] * x[b,n,col_i]`. Selected entries of a Linear's *bias* that did not
  pass the beta test are tuned the same way (`sparse_bias`, `set_sparse_bias`). Selected entries of
  LayerNorm weights/biases that did not pass the beta test are counted in the budget but **never trained**:
  only `nn.Linear` modules are replaced (`vision_transformer_timm.py:1200`; comment at `:1315`: "unstructured
  tuning on norms ... doesn't affect the performance much"). `tuned_vectors` are trained in full via
  `fully_fine_tuned_keys` (substring match in `freeze_stages`). The sparse deltas are initialised to 0, so
  the model is unchanged at step 0; LoRA B = 0 likewise.
* Frozen otherwise; `head`, `cls_token` always trained (`freeze_stages`).

## Released code as-is
`model/__init__.py` imports `.swin_transformer`, which is not in the repository (no commit has it), so
`train_spt.py` (`import model as models`) fails at import; `get_sensitivity` also hard-codes CUDA
(`device='cuda'`, `torch.cuda.synchronize`). This generator loads `model/vision_transformer_timm.py`
directly and runs `get_sensitivity` on CPU through the shims listed in `provenance.json`.

## Fixture
Tiny ViT: dim 8, 2 heads, MLP 16, depth 2, 4 patch tokens + cls, patch vectors of 12 numbers
(`patch_embed.proj` is a Linear on pre-flattened patches), 3 classes; the blocks are the authors'
`BlockSepQKV`. 4 batches of 4 are given, `sensitivity_batch_num = 3` (batch 3 is ignored). LoRA rank 2,
alpha 2, beta 5. The ViT-B sweep grid is scaled so step j selects about 15*j entries (of 1216; exact k per
step in `results.sweep[].k`).
Chosen step for the detailed tensors: j = {j}, top-{k} entries.
* `param.*`: all model parameters. `batch{{i}}.x/y`. `logits_batch{{i}}`: model outputs (the forward is
  spelled out in `case.json` `config.model.forward`; losses in `results.batch_losses`).
* `grad_batch{{i}}.*`: per-batch gradients of the ranked tensors; `sensitivity.*` = sum of their squares.
* `selected.*` (I32): the global top-{k} mask per tensor. `chosen.tuned_matrices`,
  `chosen.unstructured_indexes`: what the authors' code saved for that step.
* `results.sweep` (case.json): every step's structured matrices, tuned vectors, unstructured tensors and
  counts, straight from the authors' saved dicts; `results.chosen_step` repeats the chosen one.
* `unstructured.*`: `LinearSPTSparseGrad` on `{target}` with the chosen selection and random deltas:
  `y`, `grad_sparse_weight`, `grad_x` for `L = sum(y*G)`.
* `lora.*`: `StructuredTuningModule('lora')` for `{s_target}` with random B: `delta`, `y`.

## How a test reproduces the numbers
1. `S = sum_{{b<3}} grad_batch_b**2` -> `sensitivity.*` (or recompute gradients from `param.*`, batches).
2. Concatenate the ranked tensors in the order `results.ranked_tensor_order` (`named_parameters` order), top-k ->
   `selected.*`; count per tensor; apply the vector/matrix rules with alpha=2, beta=5, r=2 ->
   `results.chosen_step` (and every row of `results.sweep`, using its stored k).
3. Sparse linear: scatter-add the deltas at `unstructured.indexes`, forward and backward -> `unstructured.*`.
4. LoRA branch -> `lora.delta`, `lora.y`.
"""

if __name__ == "__main__":
    main()
