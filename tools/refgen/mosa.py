"""Reference fixture for MoSA (Split & Merge: Unlocking the Potential of Visual Adapters via
Sparse Training; "Mixture of Sparse Adapters"), from the authors' code Theia-4869/MoSA.

Authors' code that runs (imported from --repo at run time):
  * src/models/vit_adapter/vit_mosa.py : MoSABlock (expert adapters, stochastic expert choice in
                                         forward, merge) on top of src/models/vit_backbones/vit.py
                                         (Attention, Mlp)
  * src/utils/pruner.py                : Rand.score + Pruner.divide (the split into disjoint masks)
  * src/engine/trainer.py              : Trainer.forward_one_batch (loss with the additional forward
                                         and symmetric KL, backward, gradient masking, optimizer step),
                                         called unbound on a stand-in object holding cfg/model/optimizer
  * src/solver/optimizer.py            : make_optimizer + its AdamW
  * src/solver/losses.py               : SoftmaxLoss, symmetric_KL_loss
Stubs (not installed here, not part of the computation): scipy.ndimage, turtle (vit.py imports
`forward` from it), ml_collections.ConfigDict (ViT configs), termcolor/simplejson-based
src.utils.logging, wandb, fvcore (CfgNode, Checkpointer), src.engine.evaluator.
Ours: the wrapper (one MoSABlock + a linear head on token 0), data, seeds, recording; the mask
assignment loop mirrors train.py:125-160 (it lives in train.py's main()).

Usage: /usr/bin/python3 tools/refgen/mosa.py --repo ../refs/src/MoSA --out test/fixtures/reference/mosa
"""
import argparse
import logging as pylogging
import os
import random
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_selective import TensorBag, git_head, setup_torch, stub_module, write_fixture  # noqa: E402

HIDDEN, MLP_DIM, HEADS, BOTTLENECK, EXPERTS, N_CLS = 8, 16, 2, 4, 4, 3
BATCH, TOKENS = 3, 5
SCALAR = 0.1          # cfg.MODEL.ADAPTER.SCALAR default
ADAPTER_DROPOUT = 0.0  # default 0.1; 0 here so the step is reproducible without torch's dropout RNG
LR, WD = 0.005, 0.01  # VTAB script: BASE_LR 0.005, WEIGHT_DECAY 0.01, optimizer adamw (base-finetune.yaml)
N_STEPS = 6
SEED = 3407


class ConfigDict(dict):
    def __init__(self, d=None):
        super().__init__(d or {})

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)

    def __setattr__(self, k, v):
        self[k] = v


def ns(**kw):
    return types.SimpleNamespace(**kw)


def install_stubs():
    stub_module("scipy")
    stub_module("scipy.ndimage", zoom=None)
    sys.modules["scipy"].ndimage = sys.modules["scipy.ndimage"]
    stub_module("turtle", forward=None)
    stub_module("ml_collections", ConfigDict=ConfigDict)
    stub_module("wandb")
    stub_module("fvcore")
    stub_module("fvcore.common")
    stub_module("fvcore.common.config", CfgNode=dict)
    stub_module("fvcore.common.checkpoint", Checkpointer=object)
    import src.utils  # noqa: F401  (namespace package of the authors' repo)
    stub_module("src.utils.logging", get_logger=lambda name: pylogging.getLogger(name))
    import src.engine  # noqa: F401
    stub_module("src.engine.evaluator", Evaluator=object)


def run_case(torch, share, bag, prefix, x, labels):
    import torch.nn as nn
    import src.models.vit_adapter.vit_mosa as vm
    from src.utils.pruner import Rand
    from src.engine.trainer import Trainer
    from src.solver.optimizer import make_optimizer
    from src.solver.losses import SoftmaxLoss

    config = ns(hidden_size=HIDDEN, transformer={"num_heads": HEADS, "mlp_dim": MLP_DIM,
                                                 "attention_dropout_rate": 0.0, "dropout_rate": 0.0})
    acfg = ns(BOTTLENECK_SIZE=BOTTLENECK, STYLE="AdaptFormer", EXPERT_NUM=EXPERTS, SHARE=share)

    class Net(nn.Module):  # ours: one MoSA block + head on token 0
        def __init__(self):
            super().__init__()
            self.block = vm.MoSABlock(config, False, acfg, adapter_scalar=SCALAR, adapter_dropout=ADAPTER_DROPOUT)
            self.head = nn.Linear(HIDDEN, N_CLS)

        def forward(self, inp):
            out, _ = self.block(inp)
            return self.head(out[:, 0])

    torch.manual_seed(11)
    net = Net()
    blk = net.block
    g = torch.Generator().manual_seed(21)
    with torch.no_grad():   # non-trivial frozen backbone + adapter LayerNorm + head
        for name, p in net.named_parameters():
            if "adapter" in name:
                continue
            p.copy_(0.3 * torch.randn(p.shape, generator=g) + (1.0 if name.endswith("norm.weight") else 0.0))
    # trainable set as vit_models.py:114-117 (+ the head): "adapter" in name and not "merge"
    for name, p in net.named_parameters():
        p.requires_grad_(("adapter" in name and "merge" not in name) or name.startswith("head"))

    # ---- split: masks as train.py:125-160 does for MOE + AdaptFormer -------------------------
    pruner = Rand(ns(MODEL=ns(TRANSFER_TYPE="mosa", ADAPTER=ns(EXPERT_NUM=EXPERTS, BIAS=True))))
    torch.manual_seed(12)
    split = []
    if share != "down":
        split.append("adapter_down")
    if share != "up":
        split.append("adapter_up")
    for part in split:
        lst = getattr(blk, part)
        for kind in ("weight", "bias"):
            score = pruner.score(getattr(lst[0], kind))
            masks = pruner.divide(score)
            for i, m in enumerate(masks):
                getattr(lst[i], kind).mask = m
            bag.add(f"{prefix}.{part}.{kind}.score", score, "Rand pruner score = torch.rand_like(expert 0's tensor)")
            for i, m in enumerate(masks):
                bag.add(f"{prefix}.{part}.{i}.{kind}.mask", m.to(torch.int32),
                        f"mask of expert {i} from Pruner.divide (I32 0/1); biases: all ones because ADAPTER.BIAS")

    def snapshot(tag, meaning):
        for name, p in blk.named_parameters():
            if "adapter" in name:
                bag.add(f"{prefix}.{tag}.{name}", p, meaning)
        for name, p in net.head.named_parameters():
            bag.add(f"{prefix}.{tag}.head.{name}", p, meaning + " (classification head, trainable, not split)")

    snapshot("init", "adapter parameters at init: experts are deep copies of expert 0 (down: kaiming_uniform(a=sqrt5), bias 0; up: zeros)")
    for name, p in net.named_parameters():
        if "adapter" not in name and not name.startswith("head"):
            bag.add(f"{prefix}.frozen.{name}", p, "frozen backbone parameter of the block")

    # intermediate tensors of the block (constant across steps: the backbone is frozen)
    cap = {}
    h_attn = blk.attn.register_forward_hook(lambda m, i, o: cap.__setitem__("attn_out", o[0]))
    h_ffn = blk.ffn.register_forward_hook(lambda m, i, o: cap.__setitem__("ffn_out", o))

    # ---- stochastic training steps through the authors' Trainer.forward_one_batch -------------
    train_params = ns(DBG_TRAINABLE=False, WEIGHT_DECAY=WD, OPTIMIZER="adamw", BASE_LR=LR)
    optimizer = make_optimizer([net], train_params)
    raw_grads = {}
    hooks = []
    for name, p in blk.named_parameters():
        if p.requires_grad:
            hooks.append(p.register_hook(lambda gr, n=name: raw_grads.__setitem__(n, gr.detach().clone())))
    stepped_grads = {}
    real_step = optimizer.step

    def recording_step(closure=None):
        for name, p in blk.named_parameters():
            if p.grad is not None:
                stepped_grads[name] = p.grad.detach().clone()
        return real_step(closure)
    optimizer.step = recording_step

    choices = []

    class RandomProxy:
        def randint(self, a, b):
            v = random.randint(a, b)
            choices.append(v)
            return v
    vm.random = RandomProxy()
    random.seed(SEED)
    fake = ns(device=torch.device("cpu"),
              cfg=ns(DBG=False, MODEL=ns(ADAPTER=ns(DEEPREG=False, ADDITIONAL=True, ADD_WEIGHT=0.0, REG_WEIGHT=1.0),
                                         LORA=ns(DEEPREG=False, ADDITIONAL=False)),
                     PRUNER=ns(NUM=EXPERTS)),
              model=net, cls_criterion=SoftmaxLoss(), cls_weights=[1.0] * N_CLS,
              optimizer=optimizer, args=ns(sparse_train=True))
    steps = []
    net.train()
    for t in range(1, N_STEPS + 1):
        raw_grads.clear(); stepped_grads.clear()
        n0 = len(choices)
        loss, acc, outputs = Trainer.forward_one_batch(fake, x, labels, True)
        ch = choices[n0:]
        rec = {"step": t, "loss": float(loss), "choices": {"forward1": {"A_down": ch[0], "B_up": ch[1]},
                                                           "forward2_additional": {"A_down": ch[2], "B_up": ch[3]}},
               "experts_with_grad_tensor": sorted(n for n in stepped_grads if "adapter" in n)}
        steps.append(rec)
        bag.add(f"{prefix}.step{t}.logits1", outputs, f"logits of the main forward at step {t}")
        for name in sorted(raw_grads):
            if "adapter" in name:
                bag.add(f"{prefix}.step{t}.rawgrad.{name}", raw_grads[name], "gradient from backward, before masking")
        for name in sorted(stepped_grads):
            if "adapter" in name:
                bag.add(f"{prefix}.step{t}.grad.{name}", stepped_grads[name],
                        "gradient the optimizer used (p.grad *= p.mask for experts; zero tensor for experts used earlier but not now)")
        snapshot(f"step{t}", f"adapter parameters after step {t}")
    bag.add(f"{prefix}.h", cap["attn_out"].detach() + x, "h = x + attn(LN(x)) inside the block (adapter input before adapter_norm)")
    bag.add(f"{prefix}.ffn_out", cap["ffn_out"], "ffn(LN_ffn(h)) inside the block")
    for hk in hooks:
        hk.remove()
    # final state of optimizer moments for the experts
    for name, p in blk.named_parameters():
        if p in optimizer.state and len(optimizer.state[p]) and "adapter_up." in name:
            bag.add(f"{prefix}.final.exp_avg.{name}", optimizer.state[p]["exp_avg"], "AdamW first moment after the last step")

    # ---- merge and eval ---------------------------------------------------------------------
    blk.merge("add")
    for name, p in blk.named_parameters():
        if "merge" in name:
            bag.add(f"{prefix}.merged.{name}", p, "after MoSABlock.merge('add'): mean of the experts")
    net.eval()
    with torch.no_grad():
        y_eval = net(x)
        out_eval, _ = blk(x)
    bag.add(f"{prefix}.eval.block_out", out_eval, "block output in eval mode (uses the merged adapters)")
    bag.add(f"{prefix}.eval.logits", y_eval, "head(block_out[:, 0]) in eval mode")
    h_attn.remove(); h_ffn.remove()
    vm.random = random
    return steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    torch = setup_torch(0)
    sys.path.insert(0, repo)
    install_stubs()
    bag = TensorBag()
    g = torch.Generator().manual_seed(7)
    x = torch.randn(BATCH, TOKENS, HIDDEN, generator=g)
    labels = torch.randint(0, N_CLS, (BATCH,), generator=g)
    bag.add("x", x, "block input tokens [B, N, hidden]")
    bag.add("labels", labels.to(torch.int32), "class labels")
    steps_none = run_case(torch, None, bag, "share_none", x, labels)
    steps_down = run_case(torch, "down", bag, "share_down", x, labels)

    case = {
        "method": "mosa",
        "config": {"hidden": HIDDEN, "mlp_dim": MLP_DIM, "heads": HEADS, "bottleneck": BOTTLENECK, "experts": EXPERTS,
                   "style": "AdaptFormer", "adapter_scalar": SCALAR, "adapter_dropout": ADAPTER_DROPOUT,
                   "adapter_dropout_authors_default": 0.1, "classes": N_CLS, "batch": BATCH, "tokens": TOKENS,
                   "optimizer": {"name": "src/solver/optimizer.py AdamW (HF style)", "lr": LR, "betas": [0.9, 0.999],
                                 "eps": 1e-6, "weight_decay": "0.01 for names without 'bias'/'LayerNorm.*' (adapter_norm.weight included), 0 for biases",
                                 "correct_bias": True},
                   "loss": "SoftmaxLoss(logits1, y) (mean CE) + 1.0 * symmetric_KL_loss(logits1, logits2); logits2 from a second forward with fresh expert choices (ADDITIONAL True, ADD_WEIGHT 0, REG_WEIGHT 1)",
                   "python_random_seed": SEED, "n_steps": N_STEPS,
                   "cases": {"share_none": "MODEL.ADAPTER.SHARE None: down and up both split into 4 experts",
                             "share_down": "MODEL.ADAPTER.SHARE 'down' (4 of the 5 scripts): one dense shared down projection, only up split"},
                   "authors_scripts": {"EXPERT_NUM": 4, "BOTTLENECK_SIZE": "64 (FGVC) / 16 (VTAB)", "MERGE": "add", "SHARE": "down",
                                       "ADDITIONAL": True, "ADD_WEIGHT": 0.0, "REG_WEIGHT": 1.0, "lr": "0.001-0.005",
                                       "weight_decay": 0.01, "warmup_epochs": 10, "epochs": 100, "scheduler": "cosine"}},
        "results": {"share_none_steps": steps_none, "share_down_steps": steps_down},
        "tolerance": {"rel": 1e-4, "abs": 1e-5, "rule": "|a-b| <= rel*|b| + abs", "masks_and_choices": "exact"},
    }
    commit = git_head(repo)
    write_fixture(
        args.out, method="mosa",
        paper="Split & Merge: Unlocking the Potential of Visual Adapters via Sparse Training (MoSA, Zhang et al., 2023/2024)",
        repository="Theia-4869/MoSA", commit=commit,
        files_used=["src/models/vit_adapter/vit_mosa.py", "src/models/vit_backbones/vit.py", "src/utils/pruner.py",
                    "src/engine/trainer.py", "src/solver/optimizer.py", "src/solver/losses.py",
                    "train.py (read only: mask assignment)", "src/models/vit_models.py (read only: trainable set)",
                    "src/configs/config.py (read only)", "scripts/mosa/vit/*/*.sh (read only)"],
        objects_used=["MoSABlock", "MoSABlock.merge", "Attention", "Mlp", "Rand", "Pruner.divide",
                      "Trainer.forward_one_batch", "make_optimizer", "AdamW", "SoftmaxLoss", "symmetric_KL_loss"],
        command="LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/refgen/mosa.py --repo ../refs/src/MoSA --out test/fixtures/reference/mosa",
        notes="One MoSABlock (hidden 8) + linear head instead of ViT-B; adapter dropout 0 (authors 0.1) so steps are deterministic; Python's random (expert choice) seeded 3407 and recorded; stubs for scipy/turtle/ml_collections/logging/wandb/fvcore/evaluator.",
        case=case, bag=bag, readme=README.format(commit=commit))


README = r"""# MoSA (Split & Merge) reference fixture

Authors' code: `Theia-4869/MoSA` @ `{commit}` (checked out at `../refs/src/MoSA`; the only file
missing from the snapshot is `figure/demo.gif`). Method code: `src/models/vit_adapter/vit_mosa.py`
(MoSABlock 19-565), `src/utils/pruner.py`, `train.py:116-200` (mask assignment), `src/engine/trainer.py:69-156`
(training step), `:266-275` (merge before every evaluation), `src/solver/optimizer.py` (AdamW).

## Split (`pruner.py`, `train.py:125-160`)
* Each split adapter tensor (AdaptFormer: `adapter_down` Linear hidden->r and `adapter_up` Linear r->hidden,
  per block) exists as `EXPERT_NUM` = N full-size copies (`nn.ModuleList`). All copies start **identical**
  (deep copies of expert 0: down kaiming_uniform(a=sqrt5) + zero bias, up all zeros) (`vit_mosa.py:187-228`).
* Masks: `score = torch.rand_like(expert0.weight)`; expert i gets `mask_i = 1` where `score` lies between the
  k-th order statistics `kth(int(i/N*numel)+1)` and `kth(int((i+1)/N*numel))` (inclusive) - a random partition
  of the entries into N disjoint, equally sized sets, per tensor (`Pruner.divide(mode='all')`). Biases: with
  `ADAPTER.BIAS` True (default) **every expert's bias mask is all ones** (biases are not split).
* `SHARE='down'` (4 of the 5 provided scripts) keeps one dense, shared `adapter_down` (no masks) and splits
  only `adapter_up`; `SHARE=None` splits both. This fixture runs both (`share_none.*`, `share_down.*`).
* Trainable: parameters whose name contains `adapter` but not `merge` (so `adapter_norm` too), plus the head
  (`vit_models.py:114-117`).

## Stochastic training (`vit_mosa.py:231-262`, `trainer.py:89-156`)
* Forward in train mode, per block and per forward call: `A = random.randint(0, N-1)` (down expert) and
  `B = random.randint(0, N-1)` (up expert), **independently**, with Python's `random` module:
  `adpt = up_B(dropout(GELU(down_A(adapter_norm(h)))))`, block output `= h + ffn(LN(h)) + SCALAR * adpt`
  with `h = x + attn(LN(x))`. Both draws happen even when one side is shared (`SHARE='down'` still draws A
  and ignores it), which matters for reproducing the Python RNG sequence. The experts are used **dense**: the forward does not apply the masks, so a
  down expert's entries outside its mask keep their (shared) init values and take part in the forward.
* With `ADDITIONAL` (True in all scripts) the batch is forwarded twice (fresh A, B each time):
  `loss = CE(logits1) + ADD_WEIGHT*CE(logits2) + REG_WEIGHT * symKL(logits1, logits2)`, ADD_WEIGHT 0,
  REG_WEIGHT 1, `symKL = 0.5*(KL(sm(l2).detach() || sm(l1)) + KL(sm(l1).detach() || sm(l2)))`, batchmean
  (`losses.py:70-79`). So one step can touch up to two down and two up experts.
* After `loss.backward()`, `p.grad *= p.mask` for every parameter carrying `.mask` (`trainer.py:146-153`), then
  the optimizer steps. **Optimizer state is per full-size expert tensor** (dense moments; entries outside the
  mask just get zero gradient). The optimizer is the repo's HF-style AdamW: `m = b1 m + (1-b1) g`,
  `v = b2 v + (1-b2) g^2`, `p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+1e-6)`, then `p -= lr*wd*p` on the whole
  tensor (wd 0.01 for weights incl. `adapter_norm.weight`, 0 for names containing `bias`).
* Consequences visible in the fixture: (1) masked-out entries of a down expert still shrink by weight decay
  once the expert has a gradient tensor (`zero_grad` leaves zeros, not None, in torch < 2.0); (2) an expert
  chosen at an earlier step but not at this one still moves (momentum with zero gradient, plus decay) -
  "one sub-adapter per step" holds for the gradient, not for the update; up experts stay exactly zero
  outside their masks (zero init, zero gradient, decay of zero). (The authors pin torch 1.11, where
  `zero_grad()` zero-fills; under torch >= 2.0 it sets `None` and untouched experts would not move.)

## Merge (`vit_mosa.py:470-564`, called before every evaluation, `trainer.py:266-275`)
`MERGE='add'` (all scripts): `merge_W = (sum_i expert_i.W) / N`, same for biases - the **mean** of the
experts (for up experts, zero outside each mask, this is the joint sparse assembly scaled by 1/N, i.e. the
expected training-time adapter). Eval forward uses `*_merge` modules. (`MERGE='joint'` copies each
expert's masked entries into merge and then *also* divides by N - not used by the scripts.)

## Tensors (prefix `share_none.` or `share_down.`)
* `x`, `labels` (shared). `<p>.frozen.*`: frozen block parameters (attention, MLP, LayerNorms).
* `<p>.adapter_{{down,up}}.{{weight,bias}}.score`, `<p>.adapter_{{down,up}}.<i>.{{weight,bias}}.mask` (I32).
* `<p>.init.*`, `<p>.step<t>.*`: adapter parameters (`block.` stripped) and the head (`head.*`) at init and
  after each step (the head is trained densely by the same AdamW; its gradients are not stored).
* `<p>.step<t>.rawgrad.*` (before masking), `<p>.step<t>.grad.*` (what the optimizer used),
  `<p>.step<t>.logits1`. Expert choices per step: `case.json` `results.*_steps[].choices`.
* `<p>.h`, `<p>.ffn_out`: block internals (frozen, identical every step), so the adapter branch can be
  checked alone: `block_out = h + ffn_out + 0.1 * up_B(gelu(down_A(LN_a(h))))`.
* `<p>.final.exp_avg.*`: AdamW first moments of the up experts after the last step.
* `<p>.merged.*`: merge parameters after `merge('add')`; `<p>.eval.block_out`, `<p>.eval.logits`.

## How a test reproduces the numbers
1. Masks: disjoint, union = all entries, each of size numel/N; rebuild them from `score` by rank:
   expert i takes ranks `[int(i/N*numel), int((i+1)/N*numel))` (0-based, ascending score).
2. Adapter branch for the recorded (A, B) from `h` -> compare `logits1` via the head as it was before the
   step (`head(h + ffn_out + 0.1*adpt)[:, 0]`, head from `init` or `step<t-1>`).
3. `grad = rawgrad * mask` -> `grad.*`; AdamW with the formula above -> `step<t>.*`.
4. `merged = mean over experts` -> `merged.*`; eval forward with merged adapters -> `eval.*`.
"""

if __name__ == "__main__":
    main()
