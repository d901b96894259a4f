"""Reference fixture for MoLA ("Higher Layers Need More LoRA Experts", Gao et al. 2024) from GCYZSL/MoLA.

Runs, from <repo>/src/mola_lora_hacked.py:
  - Linear_MoE (__init__ -> LoraMoE_Layer.update_layer -> reset_lora_parameters_MoE: router and expert init;
                forward: softmax router, top-k, renormalised weights, sum of the selected LoRA experts; merge)
and from <repo>/src/mola_modeling_llama_hacked.py:
  - load_balancing_loss_func (the per-layer Switch-style auxiliary loss over a tuple of per-layer router logits)
transformers and peft are stubbed (Conv1D, peft.utils helpers, PeftConfig, transformers' modeling utilities and
docstring decorators): only names the modules reference; none of them takes part in the computation except
peft.utils.transpose, stubbed with peft's definition (w.T if fan_in_fan_out else w).

usage: /usr/bin/python3 tools/refgen/mola.py --repo ../refs/src/mola --out test/fixtures/reference/mola
"""

import argparse
import dataclasses
import enum
import importlib.util
import logging
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lowrank_b_io as io  # noqa: E402

COMMIT = "01785c84c70846999638b11b88409fdf86361d9a"
NUMBER_EXPERTS = [4, 6]      # per decoder layer (the paper's 2-4-6-8 pattern, cut to 2 layers)
TOP_K = [2, 3]               # per decoder layer (the released scripts use 2 everywhere)
LORA_R = [4, 2]              # per decoder layer (lora_r is a per-layer list in their code)
ALPHA = 8.0                  # scaling = alpha / r[layer] -> 2 and 4
DIMS = {"L0_a": (16, 12), "L1_b": (12, 8), "L1_c": (12, 8)}
BATCH, SEQ = 2, 3
AUX_COEF = 0.001             # router_aux_loss_coef in LlamaForCausalLM_d (mola_modeling_llama_hacked.py:1149)
SEED = 0


def identity_decorator(*a, **k):
    if len(a) == 1 and callable(a[0]) and not k:
        return a[0]
    return lambda f: f


def install_stubs():
    class PeftType(str, enum.Enum):
        LORA = "LORA"

    @dataclasses.dataclass
    class PeftConfig:
        peft_type: object = None
        task_type: object = None
        inference_mode: bool = False

    def transpose(weight, fan_in_fan_out):  # peft.utils.other.transpose
        return weight.T if fan_in_fan_out else weight

    class Conv1D(nn.Module):
        pass

    class PreTrainedModel(nn.Module):
        pass

    class LlamaConfig:
        pass

    class _Logging:
        @staticmethod
        def get_logger(name):
            return logging.getLogger(name)

    io.stub_module("transformers.pytorch_utils", Conv1D=Conv1D)
    io.stub_module("transformers.activations", ACT2FN={"silu": nn.SiLU()})
    io.stub_module("transformers.modeling_outputs", BaseModelOutputWithPast=dict, CausalLMOutputWithPast=dict,
                   SequenceClassifierOutputWithPast=dict)
    io.stub_module("transformers.modeling_utils", PreTrainedModel=PreTrainedModel)
    io.stub_module("transformers.utils", add_start_docstrings=identity_decorator,
                   add_start_docstrings_to_model_forward=identity_decorator, logging=_Logging,
                   replace_return_docstrings=identity_decorator)
    io.stub_module("transformers.models.llama.configuration_llama", LlamaConfig=LlamaConfig)
    io.stub_module("peft.import_utils", is_bnb_4bit_available=lambda: False, is_bnb_available=lambda: False)
    io.stub_module("peft.utils", COMMON_LAYERS_PATTERN=[], TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING={},
                   ModulesToSaveWrapper=object, PeftConfig=PeftConfig, PeftType=PeftType, _freeze_adapter=None,
                   _get_submodules=None, transpose=transpose)


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    commit = io.check_commit(args.repo, COMMIT)
    install_stubs()
    LM = load(os.path.join(args.repo, "src", "mola_lora_hacked.py"), "mola_lora_hacked_authors")
    LL = load(os.path.join(args.repo, "src", "mola_modeling_llama_hacked.py"), "mola_modeling_llama_hacked_authors")

    io.deterministic(SEED)
    mods = {}
    for name, (i, o) in DIMS.items():
        layer = int(name[1])
        # as LoraModel._create_new_module builds it (mola_lora_hacked.py:216-290): r is the per-layer list
        mods[name] = LM.Linear_MoE("default", i, o, r=LORA_R, lora_alpha=ALPHA, lora_dropout=0.0,
                                   fan_in_fan_out=False, layer_index=layer, number_experts=NUMBER_EXPERTS,
                                   top_k=TOP_K, bias=False, init_lora_weights=True)
        mods[name].eval()

    T = {}
    params = {}
    for name, m in mods.items():
        T[f"W_{name}"] = m.weight.detach().clone()
        params[f"router_{name}"] = m.router["router"].weight
        for e in range(m.number_experts):
            params[f"A_{name}_e{e}"] = m.lora_A[f"default_{e}"].weight
            params[f"B_{name}_e{e}"] = m.lora_B[f"default_{e}"].weight
    for k, p in params.items():
        T[k + "_init"] = p.detach().clone()
    with torch.no_grad():  # expert B matrices start at zero; give them values so the outputs show the experts
        for k, p in params.items():
            if k.startswith("B_"):
                p.copy_(torch.randn_like(p) * 0.1)
    for k, p in params.items():
        T[k] = p.detach().clone()

    # merge is a no-op in their code: it looks up lora_A[active_adapter] ('default'), but experts are 'default_<e>'
    w_before = mods["L0_a"].weight.detach().clone()
    mods["L0_a"].merge()
    merge_is_noop = bool(torch.equal(w_before, mods["L0_a"].weight)) and not mods["L0_a"].merged

    x = torch.randn(BATCH, SEQ, DIMS["L0_a"][0])
    T["x"] = x
    y0, logits_a = mods["L0_a"](x)
    y1b, logits_b = mods["L1_b"](y0)
    y1c, logits_c = mods["L1_c"](y0)
    outs = {"L0_a": (x, y0, logits_a), "L1_b": (y0, y1b, logits_b), "L1_c": (y0, y1c, logits_c)}
    Gb, Gc = torch.randn_like(y1b), torch.randn_like(y1c)
    T["G_L1_b"], T["G_L1_c"] = Gb, Gc
    task_loss = (y1b * Gb).sum() + (y1c * Gc).sum()
    # Per decoder layer, the logits of all its MoLA modules are concatenated along tokens (as LlamaMLP /
    # LlamaDecoderLayer do, mola_modeling_llama_hacked.py:248-269, 519-528) and passed as a tuple over layers.
    gate_logits = (logits_a, torch.cat([logits_b, logits_c], dim=0))
    aux = LL.load_balancing_loss_func(gate_logits, NUMBER_EXPERTS, TOP_K)

    plist = list(params.values())
    g_task = torch.autograd.grad(task_loss, plist, retain_graph=True)
    g_aux = torch.autograd.grad(aux, plist, allow_unused=True)
    for (k, p), gt, ga in zip(params.items(), g_task, g_aux):
        T["grad_task_" + k] = gt.detach().clone()
        T["grad_aux_" + k] = (ga if ga is not None else torch.zeros_like(p)).detach().clone()

    self_check = 0.0
    for name, (inp, out, logits) in outs.items():
        m = mods[name]
        layer = int(name[1])
        T[f"y_{name}"] = out.detach().clone()
        T[f"router_logits_{name}"] = logits.detach().clone()
        # the router quantities their forward computes internally (mola_lora_hacked.py:842-845), recomputed with the
        # same torch ops from the logits their forward returned
        probs = F.softmax(logits.detach(), dim=1, dtype=torch.float)
        top_w, top_i = torch.topk(probs, m.top_k, dim=-1)
        top_w = top_w / top_w.sum(dim=-1, keepdim=True)
        T[f"router_probs_{name}"] = probs
        T[f"topk_idx_{name}"] = top_i.to(torch.int64)
        T[f"topk_weight_{name}"] = top_w
        with torch.no_grad():
            xf = inp.detach().reshape(-1, m.in_features)
            s = ALPHA / LORA_R[layer]
            manual = xf @ m.weight.T
            for t in range(xf.shape[0]):
                for j in range(m.top_k):
                    e = top_i[t, j].item()
                    manual[t] += top_w[t, j] * s * (xf[t] @ params[f"A_{name}_e{e}"].T @ params[f"B_{name}_e{e}"].T)
            self_check = max(self_check, (manual - out.detach().reshape(-1, m.out_features)).abs().max().item())
    assert self_check < 1e-5, self_check

    counts = {}
    for name, m in mods.items():
        i, o = DIMS[name]
        layer = int(name[1])
        E, r = NUMBER_EXPERTS[layer], LORA_R[layer]
        n = m.router["router"].weight.numel() + sum(params[f"{w}_{name}_e{e}"].numel() for w in "AB" for e in range(E))
        assert n == E * (r * (i + o) + i)
        counts[name] = n

    meanings = {"x": f"input of layer 0 [{BATCH},{SEQ},{DIMS['L0_a'][0]}]",
                "G_L1_b": "upstream gradient for y_L1_b", "G_L1_c": "upstream gradient for y_L1_c"}
    for name, m in mods.items():
        i, o = DIMS[name]
        layer = int(name[1])
        E, k, r = NUMBER_EXPERTS[layer], TOP_K[layer], LORA_R[layer]
        src = "x" if layer == 0 else "y_L0_a"
        meanings[f"W_{name}"] = f"frozen base weight [{o},{i}] (no bias) of module {name} (decoder layer {layer})"
        meanings[f"router_{name}"] = f"router.router.weight [{E},{i}] (Linear, no bias); trainable"
        meanings[f"router_{name}_init"] = "router weight as reset_lora_parameters_MoE left it (kaiming_uniform a=sqrt(5))"
        for e in range(E):
            meanings[f"A_{name}_e{e}"] = f"expert {e} lora_A.weight [{r},{i}] (kaiming_uniform a=sqrt(5) at init)"
            meanings[f"A_{name}_e{e}_init"] = f"expert {e} lora_A.weight at init"
            meanings[f"B_{name}_e{e}"] = f"expert {e} lora_B.weight [{o},{r}] (zero at init; randn*0.1 here)"
            meanings[f"B_{name}_e{e}_init"] = f"expert {e} lora_B.weight at init (zeros)"
        for p in [f"router_{name}"] + [f"{w}_{name}_e{e}" for w in "AB" for e in range(E)]:
            meanings[f"grad_task_{p}"] = f"d(task loss)/d {p}, task loss = sum(y_L1_b*G_L1_b) + sum(y_L1_c*G_L1_c)"
            meanings[f"grad_aux_{p}"] = f"d(aux)/d {p}, aux = load_balancing_loss_func value (no coefficient)"
        meanings[f"y_{name}"] = f"output [{BATCH},{SEQ},{o}] of {name} applied to {src}"
        meanings[f"router_logits_{name}"] = f"router logits [{BATCH * SEQ},{E}] returned by the forward (tokens flattened)"
        meanings[f"router_probs_{name}"] = "softmax(router_logits, dim=1) in float32"
        meanings[f"topk_idx_{name}"] = f"indices of the top-{k} router probabilities per token [{BATCH * SEQ},{k}]"
        meanings[f"topk_weight_{name}"] = "the top-k probabilities renormalised to sum 1 per token"

    os.makedirs(args.out, exist_ok=True)
    io.write_safetensors(os.path.join(args.out, "tensors.safetensors"), T)
    total = sum(counts.values())
    case = {
        "method": "mola",
        "config": {
            "modules": {n: {"decoder_layer": int(n[1]), "in": d[0], "out": d[1]} for n, d in DIMS.items()},
            "topology": "y_L0_a = L0_a(x); y_L1_b = L1_b(y_L0_a); y_L1_c = L1_c(y_L0_a) (L1_b and L1_c are two "
                        "MoLA modules of the same decoder layer reading the same input, like up_proj and gate_proj)",
            "number_experts": NUMBER_EXPERTS, "top_k": TOP_K, "lora_r": LORA_R, "lora_alpha": ALPHA,
            "scaling": [ALPHA / r for r in LORA_R], "lora_dropout": 0.0, "seed": SEED,
            "aux_gate_logits": "tuple over decoder layers: (router_logits_L0_a, cat([router_logits_L1_b, "
                               "router_logits_L1_c], dim=0))",
            "router_aux_loss_coef": AUX_COEF,
        },
        "tensors": io.tensor_list(T, meanings),
        "scalars": {
            "task_loss": task_loss.item(),
            "aux_loss": aux.item(),
            "total_loss_with_obalance": task_loss.item() + AUX_COEF * aux.item(),
            "trainable_params": total,
            "trainable_params_per_module": counts,
            "trainable_params_formula": "per module: E_l * (r_l * (in + out) + in)  (E_l LoRA experts + router "
                                        "Linear(in, E_l, bias=False)); E_l, r_l indexed by the decoder layer",
            "merge_is_noop": merge_is_noop,
            "max_abs_forward_minus_formula": self_check,
        },
        "tolerance": io.DEFAULT_TOL,
    }
    io.write_json(os.path.join(args.out, "case.json"), case)
    io.write_json(os.path.join(args.out, "provenance.json"), io.provenance(
        "mola", "Higher Layers Need More LoRA Experts (Gao et al., 2024)", "GCYZSL/MoLA", commit,
        ["src/mola_lora_hacked.py", "src/mola_modeling_llama_hacked.py"],
        ["Linear_MoE", "LoraMoE_Layer.update_layer", "LoraMoE_Layer.reset_lora_parameters_MoE", "Linear_MoE.forward",
         "Linear_MoE.merge", "load_balancing_loss_func"], args.out,
        "transformers/peft stubbed. router_probs/topk_idx/topk_weight are recomputed from the returned logits with the "
        "same torch ops as Linear_MoE.forward (they are locals there); the generator checks that the outputs equal "
        "the formula built from them."))
    print("mola fixture written:", args.out, "task", task_loss.item(), "aux", aux.item(), "trainable", total)


if __name__ == "__main__":
    main()
