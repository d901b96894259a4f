"""Reference fixture for MoS (Mixture of Shards, Wang et al., ICLR 2025) from the authors' code, Forence1999/MoS.

Runs, from <repo>/modules/Tied_LoRA.py (what finetune_trainer.py imports as MoS at the pinned commit):
  - gen_tied_lora_config            (config checks)
  - share_lora_tiedly               (creates the global shard pools, one A/B pool pair per projection type, and
                                     re-initialises every adapted layer with Linear4bit__Re_Init__)
  - Linear4bit__Re_Init__, LoraLayer_update_layer, LoraLayer_reset_lora_parameters
                                    (per-layer init: pool init, seeded index draws = subset selection, separate
                                     A/B draws = pair dissociation, private shard indices = privatization)
  - LoraLinear4bit_Tied_LoRA_forward, transform_chunks
                                    (assembly of each layer's A and B from shards = vector sharding, and forward)
peft, bitsandbytes, transformers and safetensors are stubbed: the stub peft LoraLayer carries only the dict
attributes and adapter bookkeeping that peft's LoraLayer/BaseTunerLayer provide; the stub Linear4bit is a plain
float nn.Linear wrapper standing in for the 4-bit layer.

usage: /usr/bin/python3 tools/refgen/mos.py --repo ../refs/src/mos --out test/fixtures/reference/mos
"""

import argparse
import dataclasses
import os
import sys
import types
from types import SimpleNamespace

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _lowrank_b_io as io  # noqa: E402

COMMIT = "cafb8dd8d1c37856ebefa609ebc8264072fc502b"
HIDDEN, INTER, LAYERS = 16, 12, 3           # q_proj: 16 -> 16, up_proj: 16 -> 12
TARGETS = ["q_proj", "up_proj"]
LORA_R = 3                # `lora_r`: the rank of each layer's assembled A [r,in] / B [out,r]
VALID_R = 2               # `valid_param_lora_r`: pool size per layer, in equivalent LoRA ranks
PRIVATE_R = 1             # `valid_param_private_r`: ranks per layer taken from the private part of the pool
CHUNKS = 2                # `num_chunk_per_vec`: shards per rank vector (vector sharding)
ALPHA = 6.0               # lora_alpha -> scaling = alpha / lora_r = 2
N = 5
SEED = 0


# ---------------------------------------------------------------- stubs for the heavy imports of Tied_LoRA.py
class StubLoraLayer:
    """The attributes and adapter bookkeeping of peft's LoraLayer/BaseTunerLayer that Tied_LoRA.py uses."""

    def __init__(self, in_features, out_features, **kwargs):
        self.r, self.lora_alpha, self.scaling = {}, {}, {}
        self.lora_dropout = nn.ModuleDict({})
        self.lora_A = nn.ModuleDict({})
        self.lora_B = nn.ModuleDict({})
        self.lora_embedding_A = nn.ParameterDict({})
        self.lora_embedding_B = nn.ParameterDict({})
        self._disable_adapters = False
        self.merged_adapters = []
        self._active_adapter = "default"
        self.in_features, self.out_features, self.kwargs = in_features, out_features, kwargs

    @property
    def merged(self):
        return bool(self.merged_adapters)

    @property
    def disable_adapters(self):
        return self._disable_adapters

    @property
    def active_adapter(self):
        return self._active_adapter

    @property
    def active_adapters(self):
        a = self._active_adapter
        return [a] if isinstance(a, str) else a

    def set_adapter(self, adapter_names):
        if isinstance(adapter_names, str):
            adapter_names = [adapter_names]
        self._active_adapter = adapter_names


class StubLinear4bit(nn.Module, StubLoraLayer):
    """A peft LoRA layer before MoS replaces its internals (float base layer instead of 4-bit)."""

    def __init__(self, base_layer, r, lora_alpha):
        nn.Module.__init__(self)
        StubLoraLayer.__init__(self, base_layer.in_features, base_layer.out_features)
        self.base_layer = base_layer
        self.lora_alpha["default"] = lora_alpha
        self.lora_dropout["default"] = nn.Identity()
        self.lora_A["default"] = nn.Linear(base_layer.in_features, r, bias=False)
        self.lora_B["default"] = nn.Linear(r, base_layer.out_features, bias=False)
        self.set_adapter("default")


@dataclasses.dataclass
class StubLoraConfig:
    r: int = 8
    lora_alpha: float = 8
    lora_dropout: float = 0.0
    fan_in_fan_out: bool = False
    bias: str = "none"


def install_stubs():
    io.stub_module("peft", LoraConfig=StubLoraConfig, get_peft_model_state_dict=None, PromptLearningConfig=object)
    io.stub_module("peft.tuners.lora", Linear4bit=StubLinear4bit, LoraLayer=StubLoraLayer)
    io.stub_module("peft.utils", SAFETENSORS_WEIGHTS_NAME="adapter_model.safetensors", WEIGHTS_NAME="adapter_model.bin")
    io.stub_module("safetensors.torch", save_file=None)
    io.stub_module("bitsandbytes")
    io.stub_module("transformers")


def base_linear(i, o):
    lin = nn.Linear(i, o, bias=False)  # LLaMA projections have no bias
    lin.compute_dtype = torch.float32
    lin.weight.compress_statistics = True
    lin.weight.quant_type = "nf4"
    lin.weight.requires_grad_(False)
    return lin


def build_model():
    root = nn.Module()
    root.model = nn.Module()
    layers = []
    for _ in range(LAYERS):
        layer = nn.Module()
        layer.self_attn = nn.Module()
        layer.self_attn.q_proj = StubLinear4bit(base_linear(HIDDEN, HIDDEN), r=8, lora_alpha=ALPHA)
        layer.mlp = nn.Module()
        layer.mlp.up_proj = StubLinear4bit(base_linear(HIDDEN, INTER), r=8, lora_alpha=ALPHA)
        layers.append(layer)
    root.model.layers = nn.ModuleList(layers)
    root.config = SimpleNamespace(num_attention_heads=2, num_key_value_heads=2, hidden_size=HIDDEN,
                                  intermediate_size=INTER, num_hidden_layers=LAYERS)
    root.active_peft_config = StubLoraConfig(r=8, lora_alpha=ALPHA)
    return root


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    commit = io.check_commit(args.repo, COMMIT)
    install_stubs()
    sys.path.insert(0, args.repo)
    import modules.Tied_LoRA as M  # the authors' MoS module

    io.deterministic(SEED)
    model = build_model()
    selfdefined = SimpleNamespace(
        enable_lora_vec=True, enable_lora_bias=False, enable_lora_rotation=True, reduce_lora_A_x=1,
        reduce_lora_B_x=1, init2zero_via_vec=False, init_lora_A_vec_value=1, init_lora_A_vec_std=None,
        valid_param_lora_r=VALID_R, valid_param_private_r=PRIVATE_R, num_chunk_per_vec=CHUNKS, ft_mode="mos",
        lora_r=LORA_R)
    tied_config = M.gen_tied_lora_config(selfdefined, lora_config=model.active_peft_config)
    import contextlib
    import io as pyio
    with contextlib.redirect_stdout(pyio.StringIO()):
        M.share_lora_tiedly(model, tied_config)

    mods = {}
    for li, layer in enumerate(model.model.layers):
        mods[f"L{li}_q_proj"] = layer.self_attn.q_proj
        mods[f"L{li}_up_proj"] = layer.mlp.up_proj
    pools = {"q_proj": mods["L0_q_proj"], "up_proj": mods["L0_up_proj"]}
    for name, m in mods.items():  # every layer of a type holds the very same pool modules
        assert m.lora_A["default"] is pools[name.split("_", 1)[1]].lora_A["default"]

    T = {}
    with torch.no_grad():
        for t, m in pools.items():
            T[f"pool_A_{t}_init"] = m.lora_A["default"].weight.detach().clone()
            T[f"pool_B_{t}_init"] = m.lora_B["default"].weight.detach().clone()  # zeros
            m.lora_B["default"].weight.copy_(torch.randn_like(m.lora_B["default"].weight) * 0.1)
            T[f"pool_A_{t}"] = m.lora_A["default"].weight.detach().clone()
            T[f"pool_B_{t}"] = m.lora_B["default"].weight.detach().clone()

    loss = 0.0
    self_check = 0.0
    for name, m in mods.items():
        T[f"W_{name}"] = m.base_layer.weight.detach().clone()
        T[f"mask_A_{name}"] = m.lora_pair_mask["default"].detach().clone().to(torch.int64)
        T[f"mask_B_{name}"] = m.lora_pair_mask_B["default"].detach().clone().to(torch.int64)
        T[f"vec_{name}"] = (m.lora_A_vec["default"] * m.lora_A_anti_vec["default"]).detach().clone()
        with torch.no_grad():
            A = M.transform_chunks(m.lora_A["default"].weight, m.lora_pair_mask["default"], CHUNKS)
            B = M.transform_chunks(m.lora_B["default"].weight.t(), m.lora_pair_mask_B["default"], CHUNKS).t()
        T[f"A_{name}"], T[f"B_{name}"] = A.clone(), B.clone()
        x = torch.randn(N, m.in_features)
        T[f"x_{name}"] = x
        # Their forward reads `lora_A.weight.dtype` on a tensor when autocast is off (Tied_LoRA.py, forward:
        # `x = x.to(lora_A.weight.dtype)` with lora_A already a Parameter) and so only runs under autocast, as in
        # their bf16 training. Setting the CUDA autocast flag makes `torch.is_autocast_enabled()` true; it has no
        # effect on CPU float32 tensors.
        torch.set_autocast_enabled(True)
        try:
            y = m(x)
        finally:
            torch.set_autocast_enabled(False)
        G = torch.randn_like(y)
        T[f"y_{name}"], T[f"G_{name}"] = y.detach().clone(), G
        loss = loss + (y * G).sum()
        with torch.no_grad():
            manual = x @ T[f"W_{name}"].T + m.scaling["default"] * (x @ A.t()) @ B.t()
            self_check = max(self_check, (manual - y).abs().max().item())
    loss.backward()
    assert self_check < 1e-5, self_check
    for t, m in pools.items():
        T[f"grad_pool_A_{t}"] = m.lora_A["default"].weight.grad.detach().clone()
        T[f"grad_pool_B_{t}"] = m.lora_B["default"].weight.grad.detach().clone()

    chunk_pool_r = VALID_R * LAYERS * CHUNKS
    trainable = sum(m.lora_A["default"].weight.numel() + m.lora_B["default"].weight.numel() for m in pools.values())
    dims = {"q_proj": (HIDDEN, HIDDEN), "up_proj": (HIDDEN, INTER)}
    assert trainable == sum(VALID_R * LAYERS * (i + o) for i, o in dims.values())
    lora_equiv = sum(LAYERS * LORA_R * (i + o) for i, o in dims.values())
    per_layer_buffers = 2 * LORA_R + 2 * LORA_R * CHUNKS

    meanings = {}
    for t, (i, o) in dims.items():
        meanings[f"pool_A_{t}_init"] = (f"global A shard pool for every {t} [{chunk_pool_r}, {i // CHUNKS}] as left by "
                                        "share_lora_tiedly (kaiming_uniform with fan = in_features; re-drawn by each "
                                        "layer's reset, the last layer's draw stays)")
        meanings[f"pool_B_{t}_init"] = f"global B shard pool for {t} [{o // CHUNKS}, {chunk_pool_r}] at init (zeros)"
        meanings[f"pool_A_{t}"] = f"A shard pool used below (= pool_A_{t}_init); row k = shard k"
        meanings[f"pool_B_{t}"] = f"B shard pool used below (randn*0.1 in place of the zero init); column k = shard k"
        meanings[f"grad_pool_A_{t}"] = f"dL/d pool_A_{t}, summed over the {LAYERS} layers that share it"
        meanings[f"grad_pool_B_{t}"] = f"dL/d pool_B_{t}, summed over the {LAYERS} layers that share it"
    for name, m in mods.items():
        i, o = m.in_features, m.out_features
        meanings[f"W_{name}"] = f"frozen base weight [{o},{i}] (no bias)"
        meanings[f"mask_A_{name}"] = (f"lora_pair_mask [{LORA_R * CHUNKS}]: pool_A row indices drawn for this layer "
                                      "(first (r-private)*chunks shared, randperm; then private)")
        meanings[f"mask_B_{name}"] = f"lora_pair_mask_B [{LORA_R * CHUNKS}]: pool_B column indices, drawn separately"
        meanings[f"vec_{name}"] = "lora_A_vec * lora_A_anti_vec [r] (frozen, all ones)"
        meanings[f"A_{name}"] = f"assembled A [{LORA_R},{i}] = transform_chunks(pool_A, mask_A, chunks)"
        meanings[f"B_{name}"] = f"assembled B [{o},{LORA_R}] = transform_chunks(pool_B.T, mask_B, chunks).T"
        meanings[f"x_{name}"] = f"input of this layer [{N},{i}]"
        meanings[f"y_{name}"] = "output: x @ W.T + scaling * (x @ (A.T * vec)) @ B.T"
        meanings[f"G_{name}"] = "upstream gradient; L = sum over the 6 layers of sum(y * G)"

    os.makedirs(args.out, exist_ok=True)
    io.write_safetensors(os.path.join(args.out, "tensors.safetensors"), T)
    case = {
        "method": "mos",
        "config": {
            "layers": LAYERS, "targets": TARGETS, "dims": {k: {"in": v[0], "out": v[1]} for k, v in dims.items()},
            "lora_r": LORA_R, "valid_param_lora_r": VALID_R, "valid_param_private_r": PRIVATE_R,
            "num_chunk_per_vec": CHUNKS, "lora_alpha": ALPHA, "scaling": ALPHA / LORA_R, "lora_dropout": 0.0,
            "init_lora_A_vec_value": 1, "seed": SEED, "n": N,
            "chunk_pool_r": chunk_pool_r,
            "private_start_idx": (VALID_R - PRIVATE_R) * LAYERS * CHUNKS,
            "layer_index_of_name": "L<i>_<proj>: decoder layer i, projection proj",
        },
        "tensors": io.tensor_list(T, meanings),
        "scalars": {
            "loss": loss.item(),
            "trainable_params": trainable,
            "trainable_params_formula": "sum over projection types of valid_param_lora_r * num_layers * (in + out)",
            "lora_same_rank_trainable_params": lora_equiv,
            "lora_same_rank_formula": "sum over adapted layers of lora_r * (in + out)",
            "stored_nontrainable_per_layer": per_layer_buffers,
            "stored_nontrainable_per_layer_formula": "lora_A_vec (r) + lora_A_anti_vec (r) + two index masks "
                                                     "(2 * r * num_chunk_per_vec integers)",
            "max_abs_forward_minus_formula": self_check,
        },
        "tolerance": io.DEFAULT_TOL,
    }
    io.write_json(os.path.join(args.out, "case.json"), case)
    io.write_json(os.path.join(args.out, "provenance.json"), io.provenance(
        "mos", "MoS: Unleashing Parameter Efficiency of Low-Rank Adaptation with Mixture of Shards (Wang et al., "
        "ICLR 2025)", "Forence1999/MoS", commit, ["modules/Tied_LoRA.py"],
        ["gen_tied_lora_config", "share_lora_tiedly", "Linear4bit__Re_Init__", "LoraLayer_update_layer",
         "LoraLayer_reset_lora_parameters", "LoraLinear4bit_Tied_LoRA_forward", "transform_chunks",
         "kaiming_uniform_"], args.out,
        "fetch had no snapshot of Forence1999/MoS; modules/Tied_LoRA.py was transcribed from the search index's copy "
        "at this commit (31286 characters, same length as the index's) into ../refs/src/mos. finetune_trainer.py "
        "at this commit imports share_lora_tiedly as share_lora_chunkwisely. Forward run with the CUDA autocast flag "
        "set (their forward fails otherwise, see README). peft/bitsandbytes/transformers stubbed."))
    print("mos fixture written:", args.out, "loss", loss.item(), "trainable", trainable)


if __name__ == "__main__":
    main()
