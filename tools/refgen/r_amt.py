"""Reference fixture for Regularized Mask Tuning (R-AMT, Zheng et al. ICCV 2023),
from the authors' code wuw2019/R-AMT.

Authors' code that runs (imported from --repo at run time):
  * code/modules/masklayers.py : ElementWiseLinear (masked linear layer) and Binarizer (the
                                 straight-through threshold function)
  * code/loss/reg_loss.py      : RegLoss (L2 norm of the mask scores)
  * code/trainers/masktuning.py: KLLoss and MaskTuning.graddrop_backward_and_update (the
                                 gradient-dropout regularity), called unbound on a small stand-in
                                 object that provides the Dassl trainer plumbing it uses.
Stubs (not installed here / not needed for the computation): tqdm, dassl.* (registry, TrainerX base,
utils, optim, metrics), clip.* (CLIP loader/tokenizer), modules.resnet and
modules.visiontransformer (CLIP backbones). The stand-in TrainerX provides get_model_names,
model_zero_grad and detect_anomaly with the same behaviour as Dassl's
dassl/engine/trainer.py:108-116, 221-223, 284-288 in the same repository.

Usage: /usr/bin/python3 tools/refgen/r_amt.py --repo ../refs/src/R-AMT --out test/fixtures/reference/r_amt
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_selective import TensorBag, git_head, setup_torch, stub_module, write_fixture  # noqa: E402

DIMS = dict(n=6, d_in=16, d_hidden=12, n_cls=5)
THRESHOLD = 5e-3        # cfg.MASK.THRESHOLD (configs/trainers/MASK/vit_b16.yaml)
MASK_SCALE = 1e-2       # cfg.MASK.SCALE, init '1s': every score starts at 0.01
LOSS_WEIGHT = 1e-4      # cfg.MASK.LOSS_WEIGHT with MASK_LOSS True (vit_b16.yaml)
GDR_T = 1.0             # cfg.MASK.GDR_T
FUSE_ALPHA = 1.0        # cfg.MASK.FUSE_ALPHA
GDR_LAMBDA = 0.3        # README: 0.3 for most 16-shot datasets, 1.0 otherwise
LR = 1e-3               # authors: Adam lr 8e-5 cosine; larger here so one step flips some masks
SCORE_STD = 6e-3        # scores set to 0.01 + 0.006*N(0,1) so ~20% start masked out


def install_stubs(torch):
    class _Registry:
        def register(self, *a, **k):
            return lambda cls: cls

    class TrainerX:  # stand-in for dassl.engine.TrainerX: only the helpers graddrop uses
        def get_model_names(self, names=None):
            names_real = list(self._models.keys())
            if names is not None:
                names = names if isinstance(names, list) else [names]
                return names
            return names_real

        def model_zero_grad(self, names=None):
            for name in self.get_model_names(names):
                if self._optims[name] is not None:
                    self._optims[name].zero_grad()

        def detect_anomaly(self, loss):
            if not torch.isfinite(loss).all():
                raise FloatingPointError("Loss is infinite or NaN!")

    def _unused(*a, **k):
        raise RuntimeError("stub called")

    stub_module("tqdm", tqdm=lambda it, *a, **k: it)
    stub_module("dassl")
    stub_module("dassl.engine", TRAINER_REGISTRY=_Registry(), TrainerX=TrainerX)
    stub_module("dassl.metrics", compute_accuracy=_unused)
    stub_module("dassl.utils", load_pretrained_weights=_unused, load_checkpoint=_unused,
                mkdir_if_missing=_unused, save_checkpoint=_unused)
    stub_module("dassl.optim", build_optimizer=_unused, build_lr_scheduler=_unused)
    clip_pkg = stub_module("clip")
    clip_mod = stub_module("clip.clip", _MODELS={}, _download=_unused, tokenize=_unused,
                           build_model=_unused)
    clip_pkg.clip = clip_mod
    stub_module("clip.simple_tokenizer", SimpleTokenizer=type("SimpleTokenizer", (), {}))
    stub_module("clip.model", VisionTransformer=type("VisionTransformer", (), {}))
    import modules  # the authors' (empty) package, so the submodule stubs attach to it
    stub_module("modules.resnet", MaskModifiedResNet=type("MaskModifiedResNet", (), {}))
    stub_module("modules.visiontransformer", MaskVisionTransformer=type("MaskVisionTransformer", (), {}))
    return TrainerX


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch = setup_torch(0)
    import torch.nn as nn
    import torch.nn.functional as F
    code = os.path.join(args.repo, "code")
    sys.path.insert(0, code)
    install_stubs(torch)
    import modules.masklayers as nl
    from loss.reg_loss import RegLoss
    import trainers.masktuning as mt

    bag = TensorBag()
    g = torch.Generator().manual_seed(2023)
    W1 = torch.randn(DIMS["d_hidden"], DIMS["d_in"], generator=g) * 0.3
    b1 = torch.randn(DIMS["d_hidden"], generator=g) * 0.1
    W2 = torch.randn(DIMS["n_cls"], DIMS["d_hidden"], generator=g) * 0.3
    b2 = torch.randn(DIMS["n_cls"], generator=g) * 0.1
    s1 = MASK_SCALE + SCORE_STD * torch.randn(DIMS["d_hidden"], DIMS["d_in"], generator=g)
    s2 = MASK_SCALE + SCORE_STD * torch.randn(DIMS["n_cls"], DIMS["d_hidden"], generator=g)
    x = torch.randn(DIMS["n"], DIMS["d_in"], generator=g)
    labels = torch.randint(0, DIMS["n_cls"], (DIMS["n"],), generator=g)
    G = torch.randn(DIMS["n"], DIMS["n_cls"], generator=g)

    def make_net(scores=(s1, s2)):
        l1 = nl.ElementWiseLinear(DIMS["d_in"], DIMS["d_hidden"], mask_init="1s", mask_scale=MASK_SCALE,
                                  threshold_fn="binarizer", threshold=THRESHOLD)
        l2 = nl.ElementWiseLinear(DIMS["d_hidden"], DIMS["n_cls"], mask_init="1s", mask_scale=MASK_SCALE,
                                  threshold_fn="binarizer", threshold=THRESHOLD)
        init_scores = (l1.mask_real.detach().clone(), l2.mask_real.detach().clone())
        l1.weight.data.copy_(W1); l1.bias.data.copy_(b1)
        l2.weight.data.copy_(W2); l2.bias.data.copy_(b2)
        if scores is not None:
            with torch.no_grad():
                l1.mask_real.copy_(scores[0]); l2.mask_real.copy_(scores[1])
        return nn.Sequential(l1, nn.Tanh(), l2), init_scores

    for k, v in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        bag.add(k, v, f"frozen pretrained {k} (ElementWiseLinear.weight/bias are plain tensors, requires_grad False)")
    bag.add("s1", s1, "real-valued mask scores of layer 1 (mask_real Parameter), set to 0.01+0.006*N(0,1)")
    bag.add("s2", s2, "real-valued mask scores of layer 2")
    bag.add("x", x, "input [n, d_in]")
    bag.add("labels", labels.to(torch.int32), "class labels for the cross-entropy")
    bag.add("G", G, "loss weights for the STE check: L = sum(logits * G)")

    # ---- init and forward / STE -------------------------------------------------------------
    net0, init_scores = make_net(scores=None)
    bag.add("init.s1", init_scores[0], "authors' init ('1s', scale 1e-2): all scores 0.01 > threshold")
    net0.train()
    y_init = net0(x)
    teacher = F.linear(torch.tanh(F.linear(x, W1, b1)), W2, b2)
    init_equals_teacher = float((y_init - teacher).abs().max())

    net, _ = make_net()
    net.train()
    m1 = nl.Binarizer.apply(net[0].mask_real, THRESHOLD)
    m2 = nl.Binarizer.apply(net[2].mask_real, THRESHOLD)
    bag.add("mask1", m1, "Binarizer(s1, thr): 1 where s1 > thr else 0 (float)")
    bag.add("mask2", m2, "Binarizer(s2, thr)")
    y = net(x)
    bag.add("y_train", y, "logits in train mode: tanh(x @ (mask1*W1).T + b1) @ (mask2*W2).T + b2")
    (y * G).sum().backward()
    bag.add("ste.grad_s1", net[0].mask_real.grad, "dL/ds1 for L=sum(y*G): STE identity => dL/dmask1 = (dL/dW1_eff) * W1")
    bag.add("ste.grad_s2", net[2].mask_real.grad, "dL/ds2 (STE)")
    net.eval()
    with torch.no_grad():
        y_eval = net(x)
    bag.add("y_eval", y_eval, "logits in eval mode (mask = s > thr as bool): equal to y_train")

    # ---- regularised loss, teacher KL, gradient dropout ------------------------------------
    net, _ = make_net()
    net.train()
    logits = net(x)
    loss_ce = F.cross_entropy(logits, labels)
    reg = 0
    for name, p in net.named_parameters():
        if "mask_real" in name:
            reg = reg + RegLoss(p, 2)
    loss_a = loss_ce + LOSS_WEIGHT * reg
    tea_logits = teacher  # model.original_forward: the unmasked pretrained network
    kl = mt.KLLoss(T=GDR_T, alpha=FUSE_ALPHA)(logits, tea_logits, labels)
    bag.add("teacher_logits", tea_logits, "logits of the unmasked pretrained net (original_forward)")

    # a-grad and b-grad separately (same graph values) for the record
    ga = torch.autograd.grad(loss_a, [net[0].mask_real, net[2].mask_real], retain_graph=True)
    gb = torch.autograd.grad(kl, [net[0].mask_real, net[2].mask_real], retain_graph=True)
    bag.add("gdr.a_grad_s1", ga[0], "grad of loss_a = CE + 1e-4*sum ||s||_2 w.r.t. s1")
    bag.add("gdr.a_grad_s2", ga[1], "grad of loss_a w.r.t. s2")
    bag.add("gdr.b_grad_s1", gb[0], "grad of the teacher KL term w.r.t. s1")
    bag.add("gdr.b_grad_s2", gb[1], "grad of the teacher KL term w.r.t. s2")

    recorded_U = []
    real_rand = torch.rand

    def rand_recorder(*a, **k):
        u = real_rand(*a, **k)
        recorded_U.append(u.detach().clone())
        return u

    grads_at_step = []

    class RecordingAdam(torch.optim.Adam):
        def step(self, closure=None):
            grads_at_step.extend([None if p.grad is None else p.grad.detach().clone()
                                  for grp in self.param_groups for p in grp["params"]])
            return super().step(closure)

    # authors: build_optimizer(None, cfg.OPTIM, [{"params": shared.parameters()}]) -> torch.optim.Adam
    # (Dassl optimizer.py:88-94) with betas (0.9, 0.999), weight_decay 0 (vit_b16.yaml)
    for p in net.parameters():
        p.requires_grad_(False)
    for name, p in net.named_parameters():
        if "mask_real" in name:
            p.requires_grad_(True)
    opt = RecordingAdam([{"params": net.parameters()}], lr=LR, weight_decay=0.0, betas=(0.9, 0.999))
    fake = mt.MaskTuning.__new__(mt.MaskTuning)
    fake._models = {"shared": net}
    fake._optims = {"shared": opt}
    torch.manual_seed(7)
    torch.rand = rand_recorder
    try:
        mt.MaskTuning.graddrop_backward_and_update(fake, loss_a, kl, GDR_LAMBDA)
    finally:
        torch.rand = real_rand
    assert len(recorded_U) == 2 and len(grads_at_step) == 2
    bag.add("gdr.U_s1", recorded_U[0], "the uniform draw U ~ U[0,1) used for s1 (torch.rand, recorded)")
    bag.add("gdr.U_s2", recorded_U[1], "the uniform draw used for s2")
    bag.add("gdr.grad_s1", grads_at_step[0], "gradient handed to Adam for s1: ((1-lambda) + lambda*[P > U]) * a_grad")
    bag.add("gdr.grad_s2", grads_at_step[1], "gradient handed to Adam for s2")
    eps = 1e-8
    P1 = (torch.sign(ga[0]) * (ga[0] + gb[0]) / (ga[0].abs() + gb[0].abs() + eps) + 1) / 2
    P2 = (torch.sign(ga[1]) * (ga[1] + gb[1]) / (ga[1].abs() + gb[1].abs() + eps) + 1) / 2
    bag.add("gdr.P_s1", P1, "keep probability P = (sgn(a)*(a+b)/(|a|+|b|+1e-8) + 1)/2 (recomputed from a,b; matches masktuning.py:376)")
    bag.add("gdr.P_s2", P2, "keep probability for s2")
    bag.add("after.s1", net[0].mask_real, "scores after one Adam step (lr 1e-3, betas 0.9/0.999, eps 1e-8)")
    bag.add("after.s2", net[2].mask_real, "scores after one Adam step")
    bag.add("after.mask1", (net[0].mask_real > THRESHOLD), "mask after the step")
    bag.add("after.mask2", (net[2].mask_real > THRESHOLD), "mask after the step")
    flips = int(((net[0].mask_real > THRESHOLD).float() != m1).sum() + ((net[2].mask_real > THRESHOLD).float() != m2).sum())

    case = {
        "method": "r_amt",
        "config": {"dims": DIMS, "net": "logits = tanh(x @ (mask1*W1).T + b1) @ (mask2*W2).T + b2 (two ElementWiseLinear layers)",
                   "threshold": THRESHOLD, "mask_init": "1s", "mask_scale": MASK_SCALE, "score_init_used": "0.01 + 0.006*N(0,1)",
                   "mask_loss_weight": LOSS_WEIGHT, "gdr_T": GDR_T, "fuse_alpha": FUSE_ALPHA, "gdr_lambda": GDR_LAMBDA,
                   "optimizer": {"name": "torch.optim.Adam", "lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0},
                   "authors_training_config": {"optimizer": "adam", "lr": 8e-5, "scheduler": "cosine", "epochs": 30,
                                               "batch": 32, "weight_decay": 0.0, "MASK_MLP": False,
                                               "masked_layers": "CLIP ViT image encoder: conv1 (patch embedding) and every block's attention in_proj_weight (3d x d, one mask) and out_proj.weight; MLP c_fc/c_proj not masked (MASK_MLP False); biases/LayerNorms never masked; text encoder untouched"}},
        "results": {"ce_loss": float(loss_ce), "reg_term": float(LOSS_WEIGHT * reg), "loss_a": float(loss_a),
                    "kl_loss": float(kl), "masked_out_initially": int((m1 == 0).sum() + (m2 == 0).sum()),
                    "mask_entries": int(m1.numel() + m2.numel()), "mask_flips_after_one_step": flips,
                    "authors_init_output_minus_teacher_maxabs": init_equals_teacher,
                    "trainable_param_count": int(m1.numel() + m2.numel())},
        "tolerance": {"rel": 1e-4, "abs": 1e-5, "rule": "|a-b| <= rel*|b| + abs", "masks": "exact"},
    }
    commit = git_head(args.repo)
    write_fixture(
        args.out, method="r_amt",
        paper="Regularized Mask Tuning: Uncovering Hidden Knowledge in Pre-trained Vision-Language Models (Zheng et al., ICCV 2023)",
        repository="wuw2019/R-AMT", commit=commit,
        files_used=["code/modules/masklayers.py", "code/loss/reg_loss.py", "code/trainers/masktuning.py",
                    "code/modules/visiontransformer.py (read only)", "code/configs/trainers/MASK/vit_b16.yaml (read only)",
                    "code/train.py (read only: cfg.MASK defaults)"],
        objects_used=["ElementWiseLinear", "Binarizer", "RegLoss", "KLLoss", "MaskTuning.graddrop_backward_and_update"],
        command="LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/refgen/r_amt.py --repo ../refs/src/R-AMT --out test/fixtures/reference/r_amt",
        notes="Two ElementWiseLinear layers stand in for CLIP's masked attention projections; the teacher is the same net unmasked (their original_forward). dassl/clip imports stubbed; TrainerX stand-in mirrors Dassl's get_model_names/model_zero_grad/detect_anomaly. torch.rand wrapped only to record U.",
        case=case, bag=bag, readme=README.format(commit=commit))


README = r"""# Regularized Mask Tuning (R-AMT) reference fixture

Authors' code: `wuw2019/R-AMT` @ `{commit}` (checked out at `../refs/src/R-AMT`), a CoOp/Dassl
code base. Method code: `code/modules/masklayers.py`, `code/trainers/masktuning.py`,
`code/loss/reg_loss.py`; hyper-parameters `code/configs/trainers/MASK/vit_b16.yaml` and `code/train.py:112-127`.

## What is masked (granularity and selection)
* One real-valued score per weight entry (`mask_real`, same shape as the weight), a binary mask per
  entry. Layers: in CLIP's ViT image encoder, `conv1` (patch embedding, `visiontransformer.py:77`),
  every block's `attn.in_proj_weight` (the fused 3d x d q/k/v matrix, one score tensor,
  `masklayers.py:312-347`) and `attn.out_proj.weight` (`masklayers.py:322`); the MLP (`c_fc`, `c_proj`)
  is masked only if `MASK.MASK_MLP` (False in vit_b16.yaml). Biases, LayerNorms, embeddings, `proj`,
  the text encoder: never masked, frozen. The paper's "identify important parameters first" step is
  this fixed choice of layers in the code; there is no data-dependent pre-selection.
* Only the scores are trainable (`masktuning.py:260-263`); weights are plain tensors.
* Init `'1s'`: every score = `MASK.SCALE` = 1e-2 (`masklayers.py:198-199`); threshold 5e-3, so the
  initial mask is all ones and the masked model equals the pretrained one (zero change at init;
  `results.authors_init_output_minus_teacher_maxabs` = 0).

## Forward and STE (`masklayers.py:13-28`, `214-225`)
* train: `M = Binarizer(s, thr)`: `M = 1 if s > thr else 0` (float; `s == thr` gives 0);
  eval: `M = (s > thr)` (bool). `W_eff = M * W`; `y = x @ W_eff.T + b`.
* backward of Binarizer is the identity: `dL/ds = dL/dM = dL/dW_eff * W`. No clipping of `s`, no
  scaling. (`threshold_fn='ternarizer'` is referenced but `Ternarizer` is not defined in the repo.)

## Loss (`masktuning.py:300-326`)
* `loss_a = CE(logits, label) + MASK.LOSS_WEIGHT * sum over masked layers of ||s||_2` - the plain
  L2 norm of each flattened score tensor, not squared (`reg_loss.py:5-9`); LOSS_WEIGHT 1e-4 with
  MASK_LOSS True (vit_b16.yaml).
* `loss_b = KLLoss(T=GDR_T, alpha=FUSE_ALPHA)(logits, tea_logits)` with `tea_logits` from the
  unmasked pretrained model: `t = alpha*tea + (1-alpha)*logits`;
  `loss_b = mean_batch sum_c -softmax(t/T)_c * log_softmax(logits/T)_c * T^2` (a cross-entropy to the
  teacher distribution; T = 1, alpha = 1 by default) (`masktuning.py:228-242`).

## Gradient dropout regularity (`masktuning.py:338-387`)
For every score tensor, with `a = d loss_a / ds`, `b = d loss_b / ds`:
`P = (sgn(a) * (a + b) / (|a| + |b| + 1e-8) + 1) / 2`, `U ~ Uniform[0,1)` elementwise (fresh
`torch.rand` per tensor per step), `grad = ((1 - lambda) + lambda * [P > U]) * a`. Then one
optimizer step. `b` itself is **never added** to the gradient; it only sets the keep probability of
`a`: P = 1 when a and b have the same sign or b = 0, P = |a|/(|a|+|b|) when the signs disagree (so a
component of `a` fighting a stronger teacher gradient is mostly dropped).
lambda (`GDR_LAMBDA`) = 0.3 for most 16-shot datasets, 1.0 for ImageNet/SUN397/Food101 (README).
Optimizer: Dassl `adam` = `torch.optim.Adam(lr=8e-5, betas (0.9, 0.999), weight_decay 0)`, cosine
schedule, 30 epochs, batch 32.

## Saving
`save_model` stores only the binary masks (`s > thr`) bit-packed (`masktuning.py:554-580`); scores
are not kept, so a resumed run restarts from 0/1 "scores" (load decodes bits to 0.0/1.0).

## Tensors
`W1,b1,W2,b2` frozen weights; `s1,s2` scores (set to 0.01+0.006*N(0,1) so about 20 % start masked);
`x`, `labels` (I32), `G`. `init.s1`: the authors' init (all 0.01).
* `mask1, mask2`: Binarizer outputs. `y_train`, `y_eval`: logits (identical).
* `ste.grad_s1/2`: `dL/ds` for `L = sum(y_train * G)`.
* `teacher_logits`: unmasked net. `gdr.a_grad_*`, `gdr.b_grad_*`: gradients of loss_a and loss_b.
  `gdr.P_*`: keep probabilities. `gdr.U_*`: the recorded uniform draws. `gdr.grad_*`: gradient the
  optimizer received. `after.s*`, `after.mask*`: after one Adam step with lr 1e-3.
Scalars in `case.json.results` (ce_loss, reg_term, loss_a, kl_loss).

## How a test reproduces the numbers
1. `M = s > 5e-3`; logits = `tanh(x @ (M1*W1).T + b1) @ (M2*W2).T + b2` -> `y_train`.
2. STE: backprop `L = sum(y*G)` to `W_eff`, multiply by `W` -> `ste.grad_*`.
3. `loss_a`, `loss_b` as above -> scalars; their gradients -> `gdr.a_grad_*`, `gdr.b_grad_*`.
4. With the stored `U`: `grad = (0.7 + 0.3*[P > U]) * a` -> `gdr.grad_*`.
5. Adam (first step: `s -= lr * g/(|g| + eps')`, i.e. torch Adam t=1) -> `after.s*`, masks by `> thr`.
"""

if __name__ == "__main__":
    main()
