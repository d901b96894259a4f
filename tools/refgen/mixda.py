"""Reference fixture for Mixture-of-Domain-Adapters (MixDA; Diao et al., ACL 2023) from the
authors' code (repo Amano-Aki/Mixture-of-Domain-Adapters).

Authors' code that runs here:
  * src/models/mixda_adapter.py: MixtureOfDomainAdapter (the domain/knowledge adapter) -- imported.
  * src/models/transformers/modeling_roberta.py: MoeGating (the mixture gate) and RobertaOutput
    (the FFN output sub-layer with the adapters in parallel and the gated mixture; the
    `enable_old_ka=True` path that their stage-one and stage-two scripts use). That file imports
    the adapter-transformers fork of `transformers` (not installed), so we parse it with `ast` and
    exec only these two class definitions, unchanged, in a namespace with torch/nn, ACT2FN-free
    names, their MixtureOfDomainAdapter, and a stub for BertOutputAdaptersMixin whose
    `adapter_layer_forward(h, input, ln)` is `ln(h + input)` -- what adapter-transformers does when
    no library adapter (e.g. the stage-two Pfeiffer task adapter) is active -- and whose
    `_init_adapter_modules` does nothing.
  * The gate's hidden width is hard-coded 768 inside RobertaOutput; to keep the fixture small we
    replace `output.gating` after construction by their MoeGating(intermediate, 8, K+1, 3, 0.2).
"""
import argparse
import ast
import datetime
import os
import subprocess
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_adapterops import (DEFAULT_TOL, setup_torch, tensor_list, write_json,  # noqa: E402
                                   write_safetensors)


def load_classes(path, names, ns):
    tree = ast.parse(open(path).read())
    keep = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in names]
    assert len(keep) == len(names), [n.name for n in keep]
    exec(compile(ast.Module(body=keep, type_ignores=[]), path, "exec"), ns)
    return ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    from torch import nn
    os.makedirs(a.out, exist_ok=True)
    sys.path.insert(0, os.path.join(a.repo, "src", "models"))
    import mixda_adapter  # noqa: E402  (theirs)

    class BertOutputAdaptersMixin:  # stub of adapter-transformers' mixin (no library adapters)
        def _init_adapter_modules(self):
            pass

        def adapter_layer_forward(self, hidden_states, input_tensor, layer_norm):
            return layer_norm(hidden_states + input_tensor)

    ns = {"torch": torch, "nn": nn, "BertOutputAdaptersMixin": BertOutputAdaptersMixin,
          "MixtureOfDomainAdapter": mixda_adapter.MixtureOfDomainAdapter}
    load_classes(os.path.join(a.repo, "src/models/transformers/modeling_roberta.py"),
                 ["MoeGating", "RobertaOutput"], ns)

    H, I, K, B, L, GH = 8, 16, 2, 2, 3, 8
    cfg = types.SimpleNamespace(hidden_size=H, intermediate_size=I, layer_norm_eps=1e-5, hidden_dropout_prob=0.1,
                                layers=[0], enable_old_ka=True, num_of_kas=K, disable_moe=False,
                                adapter_down_scale=1, output_original=True)
    torch.manual_seed(3)
    out = ns["RobertaOutput"](cfg, 0)
    assert out.gating.linear[1].out_features == 768  # their hard-coded gate width
    torch.manual_seed(4)
    out.gating = ns["MoeGating"](I, GH, K + 1, 3, 0.2)
    g = torch.Generator().manual_seed(77)
    with torch.no_grad():
        for ka in out.kas:  # adapter_up is zero-initialised: make it non-trivial
            ka.adapter_up.weight.copy_(torch.randn(ka.adapter_up.weight.shape, generator=g) * 0.2)
            ka.adapter_up.bias.copy_(torch.randn(ka.adapter_up.bias.shape, generator=g) * 0.1)
        out.LayerNorm.weight.copy_(1 + 0.1 * torch.randn(H, generator=g))
        out.LayerNorm.bias.copy_(0.1 * torch.randn(H, generator=g))
    out.eval()  # dropouts off

    T, meaning = {}, {}
    h = torch.randn(B, L, I, generator=g)  # intermediate activations (after RobertaIntermediate's GELU)
    inp = torch.randn(B, L, H, generator=g)  # attention output (residual input)
    Gl = torch.randn(B, L, H, generator=g)
    T["h_intermediate"], meaning["h_intermediate"] = h, "input of RobertaOutput: intermediate activations [B=2, L=3, I=16]"
    T["input_tensor"], meaning["input_tensor"] = inp, "residual input (attention output) [2, 3, 8]"
    T["G"], meaning["G"] = Gl, "loss weights: L = sum(final_output * G)"
    for name, p in out.named_parameters():
        T[f"param.{name}"] = p.detach().clone()
        meaning[f"param.{name}"] = f"RobertaOutput parameter {name}"

    final, original = out(h, inp)
    (final * Gl).sum().backward()
    with torch.no_grad():
        gate = out.gating(h)
        experts = [ka(h) for ka in out.kas] + [out.dense(h)]
    T["gate_weights"], meaning["gate_weights"] = gate, "MoeGating(h): softmax over K+1 = 3 experts from the LAST token h[:, -1] [2, 1, 3]; last column = original FFN"
    for j, e in enumerate(experts):
        nm = f"expert{j}" if j < K else "expert_ffn"
        T[f"{nm}_output"] = e
        meaning[f"{nm}_output"] = ("domain adapter kas[%d](h) = up(GELU(down(h)))" % j) if j < K else "frozen FFN output dense(h)"
    T["mixture"] = torch.stack(experts, dim=3) @ gate.unsqueeze(3)
    meaning["mixture"] = "stack(experts, dim=3) @ gate.unsqueeze(3) -> [2, 3, 8, 1] (before squeeze/LayerNorm)"
    T["final_output"], meaning["final_output"] = final, "LayerNorm(mixture.squeeze() + input_tensor)"
    T["original_output"], meaning["original_output"] = original, "output_original: LayerNorm(dense(h) + input_tensor) (no adapters)"
    for name, p in out.named_parameters():
        if p.grad is not None and not name.startswith("dense.") and not name.startswith("LayerNorm."):
            T[f"grad.{name}"] = p.grad.detach().clone()
            meaning[f"grad.{name}"] = f"dL/d{name}"

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    n_ka = sum(p.numel() for p in out.kas.parameters())
    n_gate = sum(p.numel() for p in out.gating.parameters())
    write_json(os.path.join(a.out, "case.json"), {
        "method": "mixda",
        "config": {"hidden": H, "intermediate": I, "num_domain_adapters": K, "batch": B, "seq": L,
                   "adapter": "Linear(I, I/adapter_down_scale=16) -> GELU -> Linear(16, H)", "gate_hidden": GH,
                   "gate": "MoeGating(I, 8, K+1, num_layers=3, dropout=0.2) (their code hard-codes 768 for the hidden width)",
                   "mode": "eval (dropout off)", "layer_norm_eps": 1e-5},
        "scalars": {"domain_adapter_params": n_ka, "gate_params": n_gate,
                    "param_formula": "per domain adapter: I*d + d + d*H + H with d = int(I // adapter_down_scale); gate: I*g + g + (num_layers-1)*(g*g + g) + g*(K+1) + (K+1)",
                    "loss": float((final * Gl).sum())},
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    })
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "mixda",
        "paper": "Mixture-of-Domain-Adapters: Decoupling and Injecting Domain Knowledge to Pre-trained Language Models' Memories (Diao et al., ACL 2023)",
        "repository": "Amano-Aki/Mixture-of-Domain-Adapters", "commit": commit,
        "files_used": ["src/models/mixda_adapter.py", "src/models/transformers/modeling_roberta.py"],
        "objects_used": ["MixtureOfDomainAdapter", "MoeGating", "RobertaOutput"],
        "command": "/usr/bin/python3 tools/refgen/mixda.py --repo ../refs/src/mixda --out test/fixtures/reference/mixda",
        "torch": torch.__version__, "date": a.date,
        "notes": ("MoeGating and RobertaOutput exec'd from modeling_roberta.py via ast (the file imports the adapter-transformers "
                  "fork); BertOutputAdaptersMixin stubbed as ln(h + input); gate rebuilt with hidden width 8 instead of the hard-coded 768."),
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
