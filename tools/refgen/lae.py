"""Reference fixture for LAE (Learning-Accumulation-Ensemble; Gao et al., ICCV 2023) from the
authors' code (repo gqk/LAE).

Authors' code that runs here:
  * libml/model/pet/adapter.py: Adapter (the PET module; mode "parallel") and
    libml/model/misc/scaler.py: Scaler (learnable output scale, scale=None) -- imported with the
    heavy package __init__ files (backbones via timm) bypassed by registering bare packages.
  * main.py: MyModule.train_step, MyModule.post_train_step (the accumulation: EMA of the online PET
    modules into the offline ones) and MyModule.eval_epoch (the ensemble), exec'd via `ast` as
    plain functions and called with a small stand-in `self` (a frozen 2-block toy backbone + head,
    metric objects that record what they are given). main.py itself imports absl, lightning-style
    libml.core, torchmetrics and backbones, so it is not imported.
  * timm 0.5.4 (the version their requirements.txt pins) timm/utils/model_ema.py: ModelEmaV2, loaded
    from a checkout of huggingface/pytorch-image-models at tag v0.5.4 (--timm DIR).
"""
import argparse
import ast
import datetime
import importlib.util
import os
import subprocess
import sys
import types
from typing import Any, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_adapterops import (DEFAULT_TOL, setup_torch, tensor_list, write_json,  # noqa: E402
                                   write_safetensors)


def bare_package(name, path):
    m = types.ModuleType(name)
    m.__path__ = [path]
    sys.modules[name] = m
    return m


def load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    sys.modules[name] = m
    spec.loader.exec_module(m)
    return m


def methods_of(path, cls, names, ns):
    tree = ast.parse(open(path).read())
    c = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls][0]
    fns = [n for n in c.body if isinstance(n, ast.FunctionDef) and n.name in names]
    assert len(fns) == len(names)
    exec(compile(ast.Module(body=fns, type_ignores=[]), path, "exec"), ns)
    return {n: ns[n] for n in names}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--timm", required=True, help="checkout of pytorch-image-models v0.5.4 (timm/utils/model_ema.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    import torch.nn as nn
    os.makedirs(a.out, exist_ok=True)

    for pkg in ["libml", "libml.model", "libml.model.misc", "libml.model.pet"]:
        bare_package(pkg, os.path.join(a.repo, *pkg.split(".")))
    from libml.model.pet.adapter import Adapter  # noqa: E402  (theirs)
    ema_mod = load_file("timm_model_ema_054", os.path.join(a.timm, "timm/utils/model_ema.py"))
    ModelEmaV2 = ema_mod.ModelEmaV2
    ns = {"torch": torch, "nn": nn, "Tuple": Tuple, "Dict": Dict, "List": List, "Any": Any}
    fns = methods_of(os.path.join(a.repo, "main.py"), "MyModule", ["train_step", "post_train_step", "eval_epoch"], ns)

    D, HID, NCLS, N = 8, 4, 6, 6
    DECAY = 0.9
    g = torch.Generator().manual_seed(99)
    blocks = nn.ModuleList([nn.Linear(D, D) for _ in range(2)])
    head = nn.Linear(D, NCLS)
    with torch.no_grad():
        for p in list(blocks.parameters()) + list(head.parameters()):
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    for p in list(blocks.parameters()) + list(head.parameters()):
        p.requires_grad_(False)

    torch.manual_seed(5)
    pets = nn.ModuleList([Adapter(D, down_sample=HID, mode="parallel", scale=None) for _ in range(2)])
    with torch.no_grad():  # as after task 0 (up layer is zero at init)
        for ad in pets:
            ad.layer[2].weight.copy_(torch.randn(ad.layer[2].weight.shape, generator=g) * 0.3)
            ad.layer[2].bias.copy_(torch.randn(ad.layer[2].bias.shape, generator=g) * 0.1)
    ema = ModelEmaV2(pets, decay=DECAY)  # created at the start of task 1 (main.py setup_model)
    with torch.no_grad():  # online modules keep learning during task 1
        for p in pets.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)

    class Recorder:
        def __init__(self):
            self.seen = []

        def update(self, output, target):
            self.seen.append(output.detach().clone())

        def compute(self):
            return torch.tensor(0.0)

        def reset(self):
            self.seen = []

    class FakeModule:  # the `self` their methods expect
        def __init__(self, eval_only_emas):
            self.pets = pets
            self.pets_emas = nn.ModuleList([ema])
            self.cfg = types.SimpleNamespace(eval_only_emas=eval_only_emas)
            self.current_task = 1
            self.datamodule = types.SimpleNamespace(num_old_classes=3, num_classes_of=lambda t: 3)
            self.train_acc = Recorder()
            self.val_acc = Recorder()
            self.val_task_accs = {t: Recorder() for t in range(2)}
            self.val_task_local_accs = {t: Recorder() for t in range(2)}
            self.loss_fn = nn.CrossEntropyLoss()
            self._active = pets

        def attach_pets(self, p):
            self._active = p

        def __call__(self, x):
            h = x
            for i in range(2):
                h = self._active[i](blocks[i], h)
            return head(h)

    T, meaning, scalars = {}, {}, {}
    for i in range(2):
        T[f"block{i}.weight"], T[f"block{i}.bias"] = blocks[i].weight, blocks[i].bias
        meaning[f"block{i}.weight"] = f"frozen module wrapped by adapter {i} (stand-in for a ViT attention sub-layer)"
        meaning[f"block{i}.bias"] = "its bias"
    T["head.weight"], T["head.bias"] = head.weight, head.bias
    meaning["head.weight"] = "classifier head [6 classes = 2 tasks x 3, 8]"
    meaning["head.bias"] = "head bias"

    def dump(prefix, module, what):
        for name, v in module.state_dict().items():
            T[f"{prefix}.{name}"] = v.detach().clone()
            meaning[f"{prefix}.{name}"] = f"{what}: {name}"

    dump("offline_before", ema.module, "offline (EMA) PET modules before the step")
    dump("online_before", pets, "online PET modules before the step")

    # ---- learning + accumulation: one training step of task 1
    x = torch.randn(N, D, generator=g)
    y = torch.tensor([3, 4, 5, 3, 4, 5])
    T["train_x"], meaning["train_x"] = x, "training batch of task 1 [6, 8]"
    T["train_y"], meaning["train_y"] = y.to(torch.int64), "labels (task 1 classes 3..5)"
    fake = FakeModule(False)
    loss, _ = fns["train_step"](fake, (x, y), 0)
    pets.zero_grad()
    loss.backward()
    scalars["train_loss"] = float(loss)
    for name, p in pets.named_parameters():
        T[f"online_grad.{name}"] = p.grad.detach().clone()
        meaning[f"online_grad.{name}"] = "dloss/dparam, loss = CE(logits[:, 3:], y - 3) (train_step: only the new task's logits)"
    LR = 0.5
    with torch.no_grad():
        for p in pets.parameters():
            p.add_(p.grad, alpha=-LR)
    dump("online_after", pets, f"online PET modules after one SGD step (lr {LR}; the step is ours, only to move them)")
    fns["post_train_step"](fake)
    dump("offline_after", ema.module, f"offline modules after post_train_step: decay*offline + (1-decay)*online_after, decay={DECAY}")

    # ---- ensemble at inference
    xe = torch.randn(N, D, generator=g)
    ye = torch.tensor([0, 1, 2, 3, 4, 5])
    te = torch.tensor([0, 0, 0, 1, 1, 1])
    T["eval_x"], meaning["eval_x"] = xe, "evaluation batch [6, 8]"
    T["eval_y"], meaning["eval_y"] = ye.to(torch.int64), "labels"
    T["eval_task"], meaning["eval_task"] = te.to(torch.int64), "task id of each sample"
    with torch.no_grad():
        fake.attach_pets(pets)
        T["eval_online_softmax"] = fake(xe).softmax(dim=1)
        fake.attach_pets(ema.module)
        T["eval_offline_softmax"] = fake(xe).softmax(dim=1)
        fake.attach_pets(pets)
    meaning["eval_online_softmax"] = "softmax of the model with the online PET modules"
    meaning["eval_offline_softmax"] = "softmax of the model with the offline (EMA) PET modules"
    for only in (False, True):
        fk = FakeModule(only)
        with torch.no_grad():
            pred_on, pred_off, pred_ens, gts = fns["eval_epoch"](fk, [(xe, ye, te)])
        tag = "eval_only_emas" if only else "eval_ensemble"
        T[f"{tag}.output"] = fk.val_acc.seen[0]
        meaning[f"{tag}.output"] = ("max over experts of softmax probs, experts = [online, offline]" if not only
                                    else "eval_only_emas=True: the offline expert alone (max over one)")
        T[f"{tag}.pred"] = pred_ens[0].to(torch.int64)
        meaning[f"{tag}.pred"] = "argmax of the ensembled output"
        if not only:
            T["eval_pred_online"] = pred_on[0].to(torch.int64)
            meaning["eval_pred_online"] = "argmax of the online expert"
            T["eval_pred_offline"] = pred_off[0].to(torch.int64)
            meaning["eval_pred_offline"] = "argmax of the first offline expert"
            for t in range(2):
                T[f"eval_task{t}_local_output"] = fk.val_task_local_accs[t].seen[0]
                meaning[f"eval_task{t}_local_output"] = f"ensembled output of task-{t} samples restricted to task {t}'s classes (task-local accuracy input)"

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    scalars["pet_params_per_adapter"] = sum(p.numel() for p in pets[0].parameters())
    scalars["pet_param_formula"] = "Adapter(D, h): D*h + h + h*D + D + 1 (learnable Scaler when scale=None)"
    write_json(os.path.join(a.out, "case.json"), {
        "method": "lae",
        "config": {"embed_dim": D, "adapter_hidden": HID, "adapter_mode": "parallel", "adapter_scale": "None (learnable scalar, init 1)",
                   "num_adapters": 2, "classes": NCLS, "tasks": 2, "current_task": 1, "num_old_classes": 3,
                   "ema_decay": DECAY, "ema_decay_default": 0.9999, "num_emas": 1, "sgd_lr_for_the_step": LR,
                   "toy_model": "h = x; h = adapter_i(block_i, h) = block_i(h) + adapter_i.layer(h) for i = 0, 1; logits = head(h)"},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    })
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "lae",
        "paper": "A Unified Continual Learning Framework with General Parameter-Efficient Tuning (Gao et al., ICCV 2023)",
        "repository": "gqk/LAE", "commit": commit,
        "files_used": ["libml/model/pet/adapter.py", "libml/model/misc/scaler.py", "main.py",
                       "huggingface/pytorch-image-models@e0c4eec4b66dc14ae96097c7b4a7ef2af45ba309 (v0.5.4): timm/utils/model_ema.py"],
        "objects_used": ["Adapter", "Scaler", "MyModule.train_step", "MyModule.post_train_step", "MyModule.eval_epoch", "timm ModelEmaV2"],
        "command": "/usr/bin/python3 tools/refgen/lae.py --repo ../refs/src/lae --timm ../refs/src/timm-0.5.4 --out test/fixtures/reference/lae",
        "torch": torch.__version__, "date": a.date,
        "notes": ("main.py methods exec'd via ast and called on a stand-in self (toy 2-block backbone + head); ModelEmaV2 from timm v0.5.4 "
                  "as pinned in their requirements.txt; the SGD step between the states is ours. decay 0.9 instead of their 0.9999 so the "
                  "accumulation is visible at float32 tolerance."),
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
