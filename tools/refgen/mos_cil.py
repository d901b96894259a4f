"""Reference fixture for MOS (Model Surgery for pre-trained-model-based class-incremental
learning; Sun et al., AAAI 2025) from the authors' code (repo sun-hailong/AAAI25-MOS).

Authors' code that runs here:
  * backbone/vit_mos.py: Adapter, Block, Attention, VisionTransformer with its adapter machinery
    (init_adapters, adapter_update -> sum_adapter_param prefix sums, reweight_adapter,
    adapter_merge, forward_features/forward with adapter_id/train/fc_only). Built tiny (embed 8,
    depth 2, 2 heads, bottleneck 4) with their tuning_config fields (utils/inc_net.py:15-29);
    `timm` stubbed: PatchEmbed replaced by a pass-through embed layer (inputs are already
    token sequences [B, N, D]), DropPath/register_model unused.
  * models/mos.py: Learner._eval_cnn (the training-free self-refined adapter retrieval + ensemble)
    and Learner.orth_loss, exec'd via `ast` and called on a stand-in `self` whose network returns
    stored per-adapter features (so the retrieval rule runs on fixed inputs).
"""
import argparse
import ast
import copy
import datetime
import os
import subprocess
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_adapterops import (DEFAULT_TOL, setup_torch, tensor_list, write_json,  # noqa: E402
                                   write_safetensors)

D, DEPTH, HEADS, BOT, NTOK = 8, 2, 2, 4, 3
MOM = 0.1


def stub_timm(torch):
    import torch.nn as nn

    class PassThroughEmbed(nn.Module):  # stands in for timm PatchEmbed: x is already [B, N, D]
        def __init__(self, img_size=None, patch_size=None, in_chans=None, embed_dim=None):
            super().__init__()
            self.num_patches = NTOK

        def forward(self, x):
            return x

    timm = types.ModuleType("timm")
    models = types.ModuleType("timm.models")
    layers = types.ModuleType("timm.models.layers")
    layers.DropPath = object
    vt = types.ModuleType("timm.models.vision_transformer")
    vt.PatchEmbed = PassThroughEmbed
    reg = types.ModuleType("timm.models.registry")
    reg.register_model = lambda f: f
    timm.models = models
    models.layers, models.vision_transformer, models.registry = layers, vt, reg
    sys.modules.update({"timm": timm, "timm.models": models, "timm.models.layers": layers,
                        "timm.models.vision_transformer": vt, "timm.models.registry": reg})
    return PassThroughEmbed


def learner_methods(path, names, ns):
    tree = ast.parse(open(path).read())
    c = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Learner"][0]
    fns = [n for n in c.body if isinstance(n, ast.FunctionDef) and n.name in names]
    exec(compile(ast.Module(body=fns, type_ignores=[]), path, "exec"), ns)
    return {n: ns[n] for n in names}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    import torch.nn as nn
    import torch.nn.functional as F
    import numpy as np
    os.makedirs(a.out, exist_ok=True)
    Embed = stub_timm(torch)
    sys.path.insert(0, a.repo)
    from backbone import vit_mos  # noqa: E402  (theirs)

    cfg = types.SimpleNamespace(ffn_adapt=True, ffn_option="parallel", ffn_adapter_layernorm_option="none",
                                ffn_adapter_init_option="lora", ffn_adapter_scalar="0.1", ffn_num=BOT, d_model=D,
                                _device="cpu", adapter_momentum=MOM, vpt_on=False, vpt_num=0)
    torch.manual_seed(0)
    vit = vit_mos.VisionTransformer(embed_dim=D, depth=DEPTH, num_heads=HEADS, num_classes=6, qkv_bias=True,
                                    embed_layer=Embed, tuning_config=cfg)
    vit.eval()  # adapter dropout (0.1) off
    g = torch.Generator().manual_seed(2025)
    with torch.no_grad():
        for p in vit.parameters():  # random frozen backbone (pos/cls are zero-init in their code)
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        for ln in [m for m in vit.modules() if isinstance(m, nn.LayerNorm)]:
            ln.weight.add_(1.0)

    def randomize_cur():
        with torch.no_grad():
            for ad in vit.cur_adapter:
                for p in (ad.down_proj.weight, ad.down_proj.bias, ad.up_proj.weight, ad.up_proj.bias):
                    p.data = torch.randn(p.shape, generator=g) * 0.5

    T, meaning, scalars = {}, {}, {}

    def dump_adapters(prefix, adapters, what):
        for l, ad in enumerate(adapters):
            for nm in ("down_proj.weight", "down_proj.bias", "up_proj.weight", "up_proj.bias"):
                mod, attr = nm.split(".")
                T[f"{prefix}.layer{l}.{nm}"] = getattr(getattr(ad, mod), attr).detach().clone()
                meaning[f"{prefix}.layer{l}.{nm}"] = f"{what}, block {l}, {nm}"

    # stage 0 and 1: the adapter trained in each stage (random stand-ins) is stored by adapter_update
    for t in range(2):
        randomize_cur()
        dump_adapters(f"stage{t}_adapter", vit.cur_adapter, f"adapter at the end of stage {t} (stored by adapter_update)")
        vit.adapter_update()
    for l in range(DEPTH):
        T[f"prefix_sum1.layer{l}.down_proj.weight"] = vit.down_weight_sum[l][1].clone()
        meaning[f"prefix_sum1.layer{l}.down_proj.weight"] = "sum_adapter_param prefix sum after two stages (stage0 + stage1)"

    # stage 2: cur_adapter continues from stage 1 (never re-initialised) and trains; stand-in values
    randomize_cur()
    dump_adapters("cur_before", vit.cur_adapter, "stage-2 adapter before adapter_merge")
    vit.adapter_merge()  # called after every optimizer step (models/mos.py:174-175)
    dump_adapters("cur_after_merge", vit.cur_adapter,
                  f"after one adapter_merge: (1-m)*cur + m*mean(stage0, stage1), m={MOM}")

    # one training forward with adapter_id = 2: reweight_adapter runs inside the layer loop
    x = torch.randn(4, NTOK, D, generator=g)
    T["tokens"], meaning["tokens"] = x, "input token sequences [B=4, N=3 (cls prepended -> 4), D=8]"
    for nm, p in vit.named_parameters():
        if "adapter" not in nm:
            T[f"backbone.{nm}"] = p.detach().clone()
            meaning[f"backbone.{nm}"] = f"frozen tiny ViT parameter {nm}"
    with torch.no_grad():
        feats_train = vit(x, adapter_id=2, train=True)["features"]
    T["train_forward.features"] = feats_train
    meaning["train_forward.features"] = "vit(tokens, adapter_id=2, train=True)['features'] (cls token after final norm)"
    dump_adapters("cur_after_train_forward", vit.cur_adapter,
                  "stage-2 adapter after that one forward: reweighted in place DEPTH more times")
    # eval forward with a stored adapter: mutates adapter_list[1] in place
    with torch.no_grad():
        feats_eval1 = vit(x, adapter_id=1, train=False)["features"]
    T["eval_forward_adapter1.features"] = feats_eval1
    meaning["eval_forward_adapter1.features"] = "vit(tokens, adapter_id=1, train=False)['features']"
    dump_adapters("stored1_after_eval_forward", vit.adapter_list[1],
                  "adapter_list[1] after one eval forward with adapter_id=1 (reweighted in place toward stage0)")
    with torch.no_grad():
        feats_eval0 = vit(x, adapter_id=0, train=False)["features"]
        feats_plain = vit(x, adapter_id=-1)["features"]
    T["eval_forward_adapter0.features"], meaning["eval_forward_adapter0.features"] = feats_eval0, "adapter_id=0 (idx 0: no reweighting)"
    T["forward_no_adapter.features"], meaning["forward_no_adapter.features"] = feats_plain, "adapter_id=-1: frozen backbone only"

    # ---- self-refined retrieval (_eval_cnn) on stored features
    ns = {"torch": torch, "nn": nn, "F": F, "np": np, "logging": types.SimpleNamespace(info=lambda *a, **k: None)}
    fns = learner_methods(os.path.join(a.repo, "models/mos.py"), ["_eval_cnn", "orth_loss"], ns)
    NT, B, NC = 3, 8, 6
    cls2task = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 5: 2}
    Fs = torch.randn(NT, B, D, generator=g)
    head = nn.Linear(D, NC)
    with torch.no_grad():
        head.weight.copy_(torch.randn(NC, D, generator=g))
        head.bias.copy_(torch.randn(NC, generator=g) * 0.2)
    orig_logits = torch.randn(B, NC, generator=g) * 2
    targets = torch.tensor([0, 1, 2, 3, 4, 5, 2, 4])
    paths = {}

    class FakeBackbone:
        out_dim = D

        def __call__(self, x, adapter_id=-1, train=False, fc_only=False):
            if fc_only:
                for t in range(NT):
                    hit = (Fs[t] == x[0]).all(1).nonzero()
                    if len(hit):
                        paths.setdefault(int(hit[0]), []).append(t)
                return {"logits": head(x)}
            return {"features": Fs[adapter_id]}

    class FakeNet:
        backbone = FakeBackbone()

        def eval(self):
            pass

        def forward_orig(self, x):
            return {"logits": orig_logits}

    results = {}
    for ens in (True, False):
        paths.clear()
        fake = types.SimpleNamespace(_network=FakeNet(), _device="cpu", _total_classes=NC, cls2task=cls2task,
                                     _cur_task=NT - 1, ensemble=ens, topk=2)
        with torch.no_grad():
            y_pred, y_true = fns["_eval_cnn"](fake, [(None, torch.zeros(B, 1), targets)])
        results[ens] = (y_pred, dict(paths))
    T["retrieval.features"], meaning["retrieval.features"] = Fs, "features[t] of the 8 test samples through adapter t (t = 0..2) [3, 8, 8]"
    T["retrieval.head.weight"], meaning["retrieval.head.weight"] = head.weight.detach().clone(), "backbone.head weight (fc_only classifier) [6, 8]"
    T["retrieval.head.bias"], meaning["retrieval.head.bias"] = head.bias.detach().clone(), "backbone.head bias"
    T["retrieval.orig_logits"], meaning["retrieval.orig_logits"] = orig_logits, "forward_orig logits (adapter 0 + prototype cosine fc) [8, 6]"
    T["retrieval.cls2task"], meaning["retrieval.cls2task"] = torch.tensor([cls2task[c] for c in range(NC)]), "task of each class"
    T["retrieval.targets"], meaning["retrieval.targets"] = targets, "labels (unused by the rule)"
    for ens, (y_pred, pth) in results.items():
        tag = "ensemble" if ens else "no_ensemble"
        T[f"retrieval.{tag}.top2"] = torch.tensor(y_pred, dtype=torch.int64)
        meaning[f"retrieval.{tag}.top2"] = f"_eval_cnn predictions, top-2 classes (ensemble={ens})"
        maxlen = max(len(v) for v in pth.values())
        P = torch.full((B, maxlen), -1, dtype=torch.int32)
        for i, v in pth.items():
            P[i, :len(v)] = torch.tensor(v, dtype=torch.int32)
        T[f"retrieval.{tag}.adapter_path"] = P
        meaning[f"retrieval.{tag}.adapter_path"] = "adapters visited per sample by the self-refinement loop, in order (-1 = padding)"
    # final outputs recomputed by their formulas for the test (scores, not just top-2)
    final = []
    for i in range(B):
        last = results[True][1][i][-1]
        final.append(head(Fs[last, i:i + 1]))
    final = torch.cat(final).detach()
    T["retrieval.final_logits"], meaning["retrieval.final_logits"] = final, "head(features[last visited adapter]) per sample"
    T["retrieval.ensemble_scores"] = (F.softmax(final, 1) + F.softmax(orig_logits / (1 / NT), 1))
    meaning["retrieval.ensemble_scores"] = "softmax(final_logits) + softmax(orig_logits * (cur_task+1)) -- the ensemble of _eval_cnn"

    # ---- orth_loss
    feats = torch.randn(5, D, generator=g)
    cls_mean = {0: torch.randn(D, generator=g), 1: torch.randn(D, generator=g), 2: [torch.randn(D, generator=g), torch.randn(D, generator=g)]}
    fk = types.SimpleNamespace(cls_mean=cls_mean, _device="cpu", args={"reg": 0.1})
    scalars["orth_loss_with_means"] = float(fns["orth_loss"](fk, feats, None))
    fk0 = types.SimpleNamespace(cls_mean={}, _device="cpu", args={"reg": 0.1})
    scalars["orth_loss_no_means"] = float(fns["orth_loss"](fk0, feats, None))
    T["orth.features"], meaning["orth.features"] = feats, "batch pre-logit features [5, 8]"
    T["orth.class_means"] = torch.stack([cls_mean[0], cls_mean[1], cls_mean[2][0], cls_mean[2][1]])
    meaning["orth.class_means"] = "stored class means in cls_mean order (a list value contributes each element) [4, 8]"

    scalars["retrieval_paths_ensemble"] = {str(k): v for k, v in sorted(results[True][1].items())}
    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    write_json(os.path.join(a.out, "case.json"), {
        "method": "mos_cil",
        "config": {"embed_dim": D, "depth": DEPTH, "heads": HEADS, "adapter_bottleneck": BOT, "adapter_scalar": 0.1,
                   "adapter_act": "ReLU", "adapter_layernorm": "none", "ffn_option": "parallel", "adapter_momentum": MOM,
                   "tokens": NTOK, "retrieval": {"tasks": NT, "classes": NC, "cls2task": cls2task, "MAX_ITER": 4, "topk": 2},
                   "orth_loss": {"reg": 0.1, "temperature": 0.8}},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    })
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "mos_cil",
        "paper": "MOS: Model Surgery for Pre-Trained Model-Based Class-Incremental Learning (Sun et al., AAAI 2025)",
        "repository": "sun-hailong/AAAI25-MOS", "commit": commit,
        "files_used": ["backbone/vit_mos.py", "models/mos.py", "utils/inc_net.py (tuning_config values)"],
        "objects_used": ["Adapter", "Block", "Attention", "VisionTransformer.adapter_update", "VisionTransformer.sum_adapter_param",
                         "VisionTransformer.reweight_adapter", "VisionTransformer.adapter_merge", "VisionTransformer.forward",
                         "Learner._eval_cnn", "Learner.orth_loss"],
        "command": "/usr/bin/python3 tools/refgen/mos_cil.py --repo ../refs/src/mos-cil --out test/fixtures/reference/mos_cil",
        "torch": torch.__version__, "date": a.date,
        "notes": ("timm stubbed (pass-through PatchEmbed); tiny ViT with random frozen weights; stage adapters are random stand-ins "
                  "for trained ones; _eval_cnn/orth_loss exec'd via ast on a stand-in self returning stored features. "
                  "Fixture folder named mos_cil to keep it apart from the unrelated MoS (Mixture of Shards) method."),
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
