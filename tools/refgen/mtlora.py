"""Reference fixture for MTLoRA (Agiza, Neseem, Reda; CVPR 2024) from the authors' code.

Authors' code that runs here (repo scale-lab/MTLoRA):
  * models/lora.py: MTLoRALinear (task-agnostic shared LoRA + task-specific LoRAs; shared_mode
    'matrix' (default in config.py), 'matrixv2', 'addition'), its reset_parameters and forward.
  * models/swin_transformer_mtlora.py: Mlp (fc1 -> GELU -> fc2 where each task's features flow
    through its own task-specific LoRA path) -- the block-level use of MTLoRALinear in the last
    block of each Swin stage (lora=True). Imported with `timm.models.layers` stubbed (it only
    imports DropPath/to_2tuple/trunc_normal_ names, unused by Mlp).
"""
import argparse
import datetime
import os
import subprocess
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_adapterops import (DEFAULT_TOL, setup_torch, tensor_list, write_json,  # noqa: E402
                                   write_safetensors)

TASKS = ["semseg", "depth"]
R = {"shared": 4, "semseg": 2, "depth": 3}
SHARED_SCALE = 4.0
TASK_SCALE = {"semseg": 2.0, "depth": 4.0}


def stub_timm():
    timm = types.ModuleType("timm")
    timm.models = types.ModuleType("timm.models")
    layers = types.ModuleType("timm.models.layers")
    layers.DropPath = object
    layers.to_2tuple = lambda x: (x, x)
    layers.trunc_normal_ = lambda *a, **k: None
    timm.models.layers = layers
    sys.modules.update({"timm": timm, "timm.models": timm.models, "timm.models.layers": layers})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    os.makedirs(a.out, exist_ok=True)
    stub_timm()
    sys.path.insert(0, a.repo)
    from models.lora import MTLoRALinear  # noqa: E402  (theirs)
    import models.swin_transformer_mtlora as stm  # noqa: E402  (theirs)

    T, meaning, scalars = {}, {}, {}
    g = torch.Generator().manual_seed(2024)
    n_in, n_out, n = 16, 12, 5
    x = torch.randn(n, n_in, generator=g)
    xt = {t: torch.randn(n, n_in, generator=g) for t in TASKS}
    G = torch.randn(n, n_out, generator=g)
    Gt = {t: torch.randn(n, n_out, generator=g) for t in TASKS}
    T["x"], meaning["x"] = x, "shared input [5, 16]"
    T["G"], meaning["G"] = G, "loss weights for the shared output"
    for t in TASKS:
        T[f"x_task.{t}"], meaning[f"x_task.{t}"] = xt[t], f"task-specific input of {t} (x_tasks[{t}])"
        T[f"G_task.{t}"], meaning[f"G_task.{t}"] = Gt[t], f"loss weights for the {t} output"

    def params_of(m, prefix):
        for name, p in m.named_parameters():
            T[f"{prefix}.param.{name}"] = p.detach().clone()
            meaning[f"{prefix}.param.{name}"] = f"{prefix} parameter {name} (after setting B nonzero)"

    def set_nonzero_B(m):
        with torch.no_grad():
            for name, p in m.named_parameters():
                if "_B" in name:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.1)

    for mode in ["matrix", "matrixv2", "addition"]:
        torch.manual_seed(1)
        m = MTLoRALinear(n_in, n_out, r=dict(R), lora_shared_scale=SHARED_SCALE, lora_task_scale=dict(TASK_SCALE),
                         lora_dropout=0.0, tasks=list(TASKS), shared_mode=mode)
        if mode == "addition":
            with torch.no_grad():  # non-trivial LayerNorm affine
                m.lora_norm.weight.copy_(1 + 0.1 * torch.randn(n_out, generator=g))
                m.lora_norm.bias.copy_(0.1 * torch.randn(n_out, generator=g))
        set_nonzero_B(m)
        params_of(m, f"lin_{mode}")
        trainable = sum(p.numel() for nme, p in m.named_parameters() if not nme.startswith("linear."))
        scalars[f"lin_{mode}.lora_param_count"] = trainable
        for use_xt in (False, True):
            tag = f"lin_{mode}.{'xtask' if use_xt else 'noxtask'}"
            m.zero_grad()
            y, yt = m(x, xt if use_xt else None)
            L = (y * G).sum() + sum((yt[t] * Gt[t]).sum() for t in TASKS)
            L.backward()
            scalars[f"{tag}.loss"] = float(L)
            T[f"{tag}.y"], meaning[f"{tag}.y"] = y, f"shared output (first return value), mode {mode}, x_tasks={'given' if use_xt else 'None'}"
            for t in TASKS:
                T[f"{tag}.y_task.{t}"] = yt[t]
                meaning[f"{tag}.y_task.{t}"] = f"task output lora_tasks[{t}] (second return value)"
            for name, p in m.named_parameters():
                if p.grad is not None and not name.startswith("linear."):
                    T[f"{tag}.grad.{name}"] = p.grad.detach().clone()
                    meaning[f"{tag}.grad.{name}"] = f"dL/d{name}, L = sum(y*G) + sum_t sum(y_task[t]*G_task[t])"

    # block-level: Mlp of the last block of a stage (lora=True) with mode 'matrix'
    hid = 24
    cfg = types.SimpleNamespace(FC1_ENABLED=True, FC2_ENABLED=True, R_PER_TASK_LIST=[dict(R)],
                                SHARED_SCALE=[SHARED_SCALE], SCALE_PER_TASK_LIST=[dict(TASK_SCALE)],
                                DROPOUT=[0.0], INTERMEDIATE_SPECIALIZATION=False, TRAINABLE_SCALE_SHARED=False,
                                TRAINABLE_SCALE_PER_TASK=False, SHARED_MODE="matrix")
    torch.manual_seed(2)
    mlp = stm.Mlp(n_in, hid, n_in, drop=0.0, lora=True, tasks=list(TASKS), mtlora=cfg, layer_idx=0)
    set_nonzero_B(mlp)
    params_of(mlp, "mlp")
    Gm = torch.randn(n, n_in, generator=g)
    Gmt = {t: torch.randn(n, n_in, generator=g) for t in TASKS}
    T["mlp.G"], meaning["mlp.G"] = Gm, "loss weights for the Mlp shared output [5, 16]"
    for t in TASKS:
        T[f"mlp.G_task.{t}"], meaning[f"mlp.G_task.{t}"] = Gmt[t], f"loss weights for the Mlp {t} output"
    y, yt = mlp(x, xt)
    L = (y * Gm).sum() + sum((yt[t] * Gmt[t]).sum() for t in TASKS)
    L.backward()
    scalars["mlp.loss"] = float(L)
    T["mlp.y"], meaning["mlp.y"] = y, "Mlp(x, x_tasks) shared output: fc2(GELU(fc1(x)))"
    for t in TASKS:
        T[f"mlp.y_task.{t}"] = yt[t]
        meaning[f"mlp.y_task.{t}"] = f"Mlp task output for {t}: fc2 task path applied to GELU(fc1 task path of x_task)"
    for name, p in mlp.named_parameters():
        if p.grad is not None and "lora" in name:
            T[f"mlp.grad.{name}"] = p.grad.detach().clone()
            meaning[f"mlp.grad.{name}"] = f"dL/d{name}"

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    write_json(os.path.join(a.out, "case.json"), {
        "method": "mtlora",
        "config": {"in": n_in, "out": n_out, "n": n, "tasks": TASKS, "r": R, "lora_shared_scale": SHARED_SCALE,
                   "lora_task_scale": TASK_SCALE, "lora_dropout": 0.0, "linear_bias": True,
                   "mlp": {"in": n_in, "hidden": hid, "out": n_in, "act": "GELU (exact erf)", "shared_mode": "matrix"},
                   "init": "MTLoRALinear init (kaiming_uniform A, zero B) under torch.manual_seed(1)/(2); then every *_B set to randn*0.1 from Generator(2024); LayerNorm affine of 'addition' set to 1+0.1*randn / 0.1*randn"},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    })
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "mtlora",
        "paper": "MTLoRA: A Low-Rank Adaptation Approach for Efficient Multi-Task Learning (Agiza, Neseem, Reda; CVPR 2024)",
        "repository": "scale-lab/MTLoRA", "commit": commit,
        "files_used": ["models/lora.py", "models/swin_transformer_mtlora.py"],
        "objects_used": ["MTLoRALinear", "MTLoRALinear.reset_parameters", "MTLoRALinear.forward", "Mlp"],
        "command": "/usr/bin/python3 tools/refgen/mtlora.py --repo ../refs/src/mtlora --out test/fixtures/reference/mtlora",
        "torch": torch.__version__, "date": a.date,
        "notes": "timm.models.layers stubbed (names imported, unused by Mlp); the fused-window kernel import fails and is caught by their try/except.",
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
