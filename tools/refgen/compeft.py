"""Reference fixture for ComPEFT (Yadav et al. 2023) from the authors' code.

Authors' code that runs here (repo prateeky2806/ComPEFT, src/qlora/ties_utils.py):
  * get_compressed_lora_weights(state_dict, k, replace_factor) -- the LoRA compressor (the same
    body as compress_and_update_llama_adaptors / bert_eval.compress_and_update_parms /
    t5_eval.compress_and_update_t5_parms, without the model plumbing),
  * topk_values_mask, state_dict_to_vector, vector_to_state_dict (same file).
Their module imports matplotlib, transformers and peft at top level; none is used by these
functions, so they are stubbed in sys.modules.

The compressed form (mask, signs, alpha) is read off their output: signs = sign(out), mask =
out != 0, alpha = |out| of any kept entry; we also recompute alpha = replace_factor * std(tv)
(unbiased std of the dense, un-pruned flat vector, their line) and check it matches.
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

DENSITIES = [20, 50]          # their k: percent of entries kept
REPLACE_FACTORS = [1.0, 2.5]  # their replace_factor (alpha multiplier of std)


def stub_imports():
    for name in ["matplotlib", "matplotlib.pyplot", "transformers", "peft"]:
        m = types.ModuleType(name)
        sys.modules[name] = m
    sys.modules["matplotlib"].pyplot = sys.modules["matplotlib.pyplot"]
    sys.modules["transformers"].AutoTokenizer = object
    sys.modules["transformers"].AutoModelForSeq2SeqLM = object
    sys.modules["peft"].get_peft_model_state_dict = lambda *a, **k: None
    sys.modules["peft"].set_peft_model_state_dict = lambda *a, **k: None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--commit", default=None, help="commit of --repo if it is not a git work tree")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    os.makedirs(a.out, exist_ok=True)
    stub_imports()
    sys.path.insert(0, os.path.join(a.repo, "src", "qlora"))
    import ties_utils  # noqa: E402  (theirs)

    # A small LoRA adapter state dict (PEFT key names): 2 target modules, in=16, out=12, r=4.
    g = torch.Generator().manual_seed(1234)
    keys = {
        "base_model.model.layers.0.q_proj.lora_A.weight": (4, 16),
        "base_model.model.layers.0.q_proj.lora_B.weight": (12, 4),
        "base_model.model.layers.0.v_proj.lora_A.weight": (4, 16),
        "base_model.model.layers.0.v_proj.lora_B.weight": (12, 4),
    }
    sd = {}
    for i, (k, shp) in enumerate(keys.items()):
        scale = 0.1 if "lora_A" in k else 0.05
        sd[k] = (torch.randn(*shp, generator=g) * scale).float()
    short = {k: k.replace("base_model.model.layers.0.", "").replace(".weight", "") for k in keys}

    T, meaning, scalars = {}, {}, {}
    for k in keys:
        T[f"input.{short[k]}"] = sd[k]
        meaning[f"input.{short[k]}"] = f"LoRA tensor {k} (the task vector: LoRA's flat_ptm is 0)"
    flat = ties_utils.state_dict_to_vector(sd)
    T["input.flat"] = flat
    meaning["input.flat"] = "state_dict_to_vector(sd): tensors concatenated in sorted(key) order (q_A, q_B, v_A, v_B), row-major"
    d = flat.numel()
    std = flat.std()
    scalars["d"] = d
    scalars["std_unbiased"] = float(std)
    scalars["std_population"] = float(flat.std(unbiased=False))

    def run(state, k, rf):
        out = ties_utils.get_compressed_lora_weights({kk: v.clone() for kk, v in state.items()}, k, rf)
        return {kk: v.detach().clone() for kk, v in out.items()}

    for k in DENSITIES:
        # --- global (their usage): one top-k and one alpha over the whole adapter
        for rf in REPLACE_FACTORS:
            out = run(sd, k, rf)
            tag = f"global.k{k}.rf{rf:g}"
            oflat = torch.cat([out[kk].reshape(-1) for kk in sorted(out)])
            kept = oflat != 0
            alpha = float(oflat[kept].abs()[0])
            assert torch.allclose(oflat[kept].abs(), torch.full_like(oflat[kept], alpha))
            assert abs(alpha - rf * float(std)) <= 1e-6 * alpha, (alpha, rf * float(std))
            scalars[f"{tag}.alpha"] = alpha
            scalars[f"{tag}.kept"] = int(kept.sum())
            for kk in keys:
                T[f"{tag}.decompressed.{short[kk]}"] = out[kk]
                meaning[f"{tag}.decompressed.{short[kk]}"] = f"get_compressed_lora_weights(sd, k={k}, replace_factor={rf})[{short[kk]}] = alpha*sign*mask"
            if rf == REPLACE_FACTORS[0]:
                T[f"global.k{k}.mask"] = kept.to(torch.int32)
                meaning[f"global.k{k}.mask"] = f"kept entries of the flat vector (1/0), k={k}% (independent of replace_factor)"
                T[f"global.k{k}.signs"] = torch.sign(oflat).to(torch.int32)
                meaning[f"global.k{k}.signs"] = "ternary signs of the flat vector (-1/0/+1) = sign(flat)*mask"
        # STC (replace_factor -2) and pruning only (-1), their other two branches
        out = run(sd, k, -2)
        oflat = torch.cat([out[kk].reshape(-1) for kk in sorted(out)])
        T[f"global.k{k}.stc_flat"] = oflat
        meaning[f"global.k{k}.stc_flat"] = "replace_factor=-2 (STC): alpha = mean of the kept *signed* values, times sign (flat order)"
        scalars[f"global.k{k}.stc_alpha"] = float(oflat[oflat != 0][0] * torch.sign(flat[oflat != 0][0]))
        out = run(sd, k, -1)
        T[f"global.k{k}.pruned_flat"] = torch.cat([out[kk].reshape(-1) for kk in sorted(out)])
        meaning[f"global.k{k}.pruned_flat"] = "replace_factor=-1: top-k pruning only, values kept (flat order)"
        # --- per tensor: their function applied to each tensor alone (one alpha per tensor)
        rf = REPLACE_FACTORS[0]
        for kk in keys:
            out = run({kk: sd[kk]}, k, rf)[kk]
            tag = f"pertensor.k{k}.rf{rf:g}.{short[kk]}"
            T[f"{tag}.decompressed"] = out
            meaning[f"{tag}.decompressed"] = f"get_compressed_lora_weights({{{short[kk]}}}, k={k}, replace_factor={rf}): top-k and std of this tensor alone"
            nz = out[out != 0]
            scalars[f"{tag}.alpha"] = float(nz.abs()[0])
            scalars[f"{tag}.kept"] = int((out != 0).sum())

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = a.commit
    if commit is None:
        commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    case = {
        "method": "compeft",
        "config": {"lora_shapes": {short[k]: list(v) for k, v in keys.items()}, "flat_order": [short[k] for k in sorted(keys)],
                   "densities_percent": DENSITIES, "replace_factors": REPLACE_FACTORS,
                   "init": "lora_A ~ N(0,1)*0.1, lora_B ~ N(0,1)*0.05, torch.Generator seed 1234"},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    }
    write_json(os.path.join(a.out, "case.json"), case)
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "compeft",
        "paper": "ComPEFT: Compression for Communicating Parameter Efficient Updates via Sparsification and Quantization (Yadav et al., 2023)",
        "repository": "prateeky2806/ComPEFT", "commit": commit,
        "files_used": ["src/qlora/ties_utils.py"],
        "objects_used": ["get_compressed_lora_weights", "topk_values_mask", "state_dict_to_vector", "vector_to_state_dict"],
        "command": "/usr/bin/python3 tools/refgen/compeft.py --repo ../refs/src/compeft --commit d80ba585818e1692f7be830a6b5fe5c53aae7cdc --out test/fixtures/reference/compeft",
        "torch": torch.__version__, "date": a.date,
        "notes": ("matplotlib, transformers, peft stubbed (imported but unused by these functions). Checkout made with "
                  "git --work-tree checkout of every file except src/qlora/data/mmlu/* (a blob absent from the snapshot)."),
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
