"""Reference fixture for the precision-redundancy / binary adapters of Jie et al. (ICCV 2023),
from the authors' code (repo JieShibo/PETL-ViT, folder binary_adapter/).

Authors' code that runs here:
  * binary_adapter/utils.py: QLinear (its quantize() codebook construction, forward() with
    fake quantisation + straight-through estimator, dump() bit packing, load()).
  * binary_adapter/lora.py: Adapter (bit < 32 -> two QLinear, identity activation) -- Bi-LoRA.
  * binary_adapter/adaptformer.py: Adapter (ReLU) -- Bi-AdaptFormer.
Stubbed at import time: `vtab` (dataset code imported by utils.py: torchvision/PIL), `timm`
(imported by lora.py/adaptformer.py only for set_adapter's type checks). scipy (Debian's
python3-scipy) is real: their quantize() uses scipy.stats.norm.
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

BITS = [1, 2, 4]


def stub_imports():
    sys.modules["vtab"] = types.ModuleType("vtab")
    timm = types.ModuleType("timm")
    timm.models = types.ModuleType("timm.models")
    timm.models.vision_transformer = types.ModuleType("timm.models.vision_transformer")
    timm.models.vision_transformer.Block = type("Block", (), {})
    timm.models.vision_transformer.Attention = type("Attention", (), {})
    sys.modules.update({"timm": timm, "timm.models": timm.models,
                        "timm.models.vision_transformer": timm.models.vision_transformer})


def closure(fn):
    return {n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, fn.__closure__)}


def load_module(name, path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    os.makedirs(a.out, exist_ok=True)
    stub_imports()
    bdir = os.path.join(a.repo, "binary_adapter")
    sys.path.insert(0, bdir)
    import utils as bu  # noqa: E402  (theirs)
    lora = load_module("ba_lora", os.path.join(bdir, "lora.py"))
    adaptformer = load_module("ba_adaptformer", os.path.join(bdir, "adaptformer.py"))

    T, meaning, scalars = {}, {}, {}
    n_in, n_out, n_x = 16, 12, 5
    g = torch.Generator().manual_seed(7)
    W0 = (torch.randn(n_out, n_in, generator=g) * 0.05 + 0.01).float()
    x = torch.randn(n_x, n_in, generator=g).float()
    G = torch.randn(n_x, n_out, generator=g).float()
    T["qlinear.weight"] = W0
    meaning["qlinear.weight"] = "latent full-precision weight of QLinear(16, 12) [out, in] (randn*0.05 + 0.01)"
    T["qlinear.x"] = x
    meaning["qlinear.x"] = "input [5, 16]"
    T["qlinear.G"] = G
    meaning["qlinear.G"] = "loss weights: L = sum(y * G)"
    T["qlinear.y_fp"] = x @ W0.T
    meaning["qlinear.y_fp"] = "x @ W.T without quantisation (reference only)"
    for b in BITS:
        torch.manual_seed(0)
        m = bu.QLinear(n_in, n_out, b)
        with torch.no_grad():
            m.weight.copy_(W0)
        cl = closure(m.q)
        T[f"bit{b}.code"] = m.code
        meaning[f"bit{b}.code"] = f"QLinear.quantize({b}) codebook (2^{b} levels, ascending) = self.code"
        T[f"bit{b}.boundaries"] = cl["pos"]
        meaning[f"bit{b}.boundaries"] = "decision thresholds (closure var pos = ranges)"
        T[f"bit{b}.delta"] = cl["delta"]
        meaning[f"bit{b}.delta"] = "half gaps (code[1:]-code[:-1])/2 (closure var delta)"
        # forward with fake quantisation + STE
        y = m(x)
        (y * G).sum().backward()
        w = m.weight.detach()
        mean_w, std_w = w.mean(), w.std()
        wn = (w - mean_w) / (std_w + 1e-5)
        q = m.q(wn)
        T[f"bit{b}.w_normalized"] = wn
        meaning[f"bit{b}.w_normalized"] = "(W - mean(W)) / (std(W) + 1e-5), std unbiased, over the whole tensor"
        T[f"bit{b}.w_levels"] = q
        meaning[f"bit{b}.w_levels"] = "q(w_normalized): each entry replaced by its codebook level"
        T[f"bit{b}.w_effective"] = q * std_w + mean_w
        meaning[f"bit{b}.w_effective"] = "weight used by forward: q(w_n) * std(W) + mean(W) (no epsilon here)"
        T[f"bit{b}.y"] = y
        meaning[f"bit{b}.y"] = "QLinear forward (fake_quan=True) = x @ w_effective.T"
        T[f"bit{b}.grad_weight"] = m.weight.grad
        meaning[f"bit{b}.grad_weight"] = "dL/dW through their STE: wb = q(w_n).data + w_n - w_n.data; mean and std stay in the graph"
        scalars[f"bit{b}.mean_w"] = float(mean_w)
        scalars[f"bit{b}.std_w"] = float(std_w)
        # storage: dump() packs indices; load() rebuilds the weight
        byte_str, mw, sw = m.dump()
        T[f"bit{b}.packed_bytes"] = torch.tensor(list(byte_str), dtype=torch.uint8).numpy()
        meaning[f"bit{b}.packed_bytes"] = f"QLinear.dump() bytes: code indices, {8 // b} per byte, index i at bit offset {b}*(i % {8 // b}) (little-end first)"
        scalars[f"bit{b}.packed_len"] = len(byte_str)
        m2 = bu.QLinear(n_in, n_out, b)
        m2.load(byte_str, float(mw), float(sw))
        T[f"bit{b}.w_loaded"] = m2.weight.detach().clone()
        meaning[f"bit{b}.w_loaded"] = "QLinear.load(dump()): code[idx] * std + mean, float32 round-trip of mean/std"
        with torch.no_grad():
            T[f"bit{b}.y_loaded"] = m2(x)
        meaning[f"bit{b}.y_loaded"] = "forward after load (fake_quan=False): x @ w_loaded.T"

    # Bi-LoRA / Bi-AdaptFormer adapter modules (their Adapter classes; in=out=768 hard-coded)
    dim, b = 2, 1
    xa = torch.randn(2, 3, 768, generator=g).float()
    Ga = torch.randn(2, 3, 768, generator=g).float()
    T["adapter.x"] = xa
    meaning["adapter.x"] = "input [B=2, N=3, C=768] (their Adapter is hard-wired to 768)"
    T["adapter.G"] = Ga
    meaning["adapter.G"] = "loss weights for the adapters: L = sum(adapter(x) * G)"
    for name, mod in (("lora", lora), ("adaptformer", adaptformer)):
        torch.manual_seed(11)
        ad = mod.Adapter(dim, b)
        ad.eval()  # dropout off
        T[f"{name}.down.weight"] = ad.adapter_down.weight.detach().clone()
        meaning[f"{name}.down.weight"] = f"{name}.py Adapter(dim=2, bit=1).adapter_down latent weight [2, 768] (nn.Linear default init, seed 11)"
        T[f"{name}.up.weight"] = ad.adapter_up.weight.detach().clone()
        meaning[f"{name}.up.weight"] = "adapter_up latent weight [768, 2]: trunc_normal(std=0.001, a=-0.002, b=0.002) at init"
        ya = ad(xa)
        (ya * Ga).sum().backward()
        T[f"{name}.y"] = ya
        meaning[f"{name}.y"] = f"{name}.py Adapter forward (eval): up_q(act(down_q(x))), act = {'identity' if name == 'lora' else 'ReLU'}; the block adds s * y"
        T[f"{name}.grad_down"] = ad.adapter_down.weight.grad
        meaning[f"{name}.grad_down"] = "dL/d adapter_down.weight (STE)"
        T[f"{name}.grad_up"] = ad.adapter_up.weight.grad
        meaning[f"{name}.grad_up"] = "dL/d adapter_up.weight (STE)"

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    scalars["trainable_params_qlinear"] = n_in * n_out
    scalars["stored_bytes_formula"] = "per QLinear: numel*bits/8 (packed codes) + 8 (float32 mean, std)"
    write_json(os.path.join(a.out, "case.json"), {
        "method": "binary_adapter",
        "config": {"qlinear": {"in": n_in, "out": n_out, "bits": BITS, "bias": False},
                   "adapter": {"dim": dim, "bit": b, "C": 768, "dropout": "0.1 (off: eval)"},
                   "quantizer": "per-tensor standardisation + fixed non-uniform codebook for N(0,1); no per-channel option in the code"},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    })
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "binary_adapter",
        "paper": "Revisiting the Parameter Efficiency of Adapters from the Perspective of Precision Redundancy (Jie, Wang, Deng; ICCV 2023)",
        "repository": "JieShibo/PETL-ViT", "commit": commit,
        "files_used": ["binary_adapter/utils.py", "binary_adapter/lora.py", "binary_adapter/adaptformer.py"],
        "objects_used": ["QLinear", "QLinear.quantize", "QLinear.forward", "QLinear.dump", "QLinear.load",
                         "lora.Adapter", "adaptformer.Adapter"],
        "command": "/usr/bin/python3 tools/refgen/binary_adapter.py --repo ../refs/src/petl-vit --out test/fixtures/reference/binary_adapter",
        "torch": torch.__version__, "date": a.date,
        "notes": "vtab and timm stubbed in sys.modules; scipy 1.10.1 from Debian (apt-get install python3-scipy) used by their quantize().",
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
