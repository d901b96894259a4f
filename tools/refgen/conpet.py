"""Reference fixture for Dynamic ConPET's PET-module selector (Song et al. 2023) from the
authors' code (repo Raincleared-Song/ConPET).

Authors' code that runs here: loss_similarity.py LossSimilarity -- select_topk_experts (the
selector's top-k choice of task-specific PET modules, with teacher forcing in training),
generate_expert_selector_logits (the selector's training loss) and generate_continual_logits (how
the chosen experts' logits are assembled into one label distribution, with the null-expert
logit for labels of unchosen experts), plus their global_var.GLOBAL.

Stubbed at import: `tqdm`, `sklearn.cluster` (imported, unused here), `models` (their BERT/CPM/
LLaMA wrappers need transformers/bmtrain; we give `models.BertLoRAWithSelector` etc. as our toy
class so their isinstance checks pass), `utils` (their helpers; read_cache returns None and
write_cache does nothing -- their on-disk peewee logit cache; dot_product etc. unused here).
The toy model (ours): encoder h_t = tanh((E[id_t] + 4 * mean_s E[id_s]) @ W^T) per token, representation = h at the
[MASK] position, heads = Linear layers, exactly the attributes forward_model_logits reads
(bert_selector / lora_linear_selector, bert_lora / lora_linear_out, lora_alignment=None).
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

V, H, B, L = 20, 8, 6, 5
MASK_ID, CLS_ID = 1, 2
SPLIT_TO_TAGS = {"p1": [0, 1], "p2": [2, 3, 4], "p3": [5, 6]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    import torch.nn as nn
    os.makedirs(a.out, exist_ok=True)

    g = torch.Generator().manual_seed(3)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Parameter(torch.randn(V, H, generator=g) * 0.5)
            self.w = nn.Parameter(torch.randn(H, H, generator=g) * 0.5)

        def forward(self, input_ids, attention_mask, output_hidden_states, return_dict):
            e = self.emb[input_ids]
            return {"hidden_states": [torch.tanh((e + 4 * e.mean(dim=1, keepdim=True)) @ self.w.T)]}

    def linear(i, o):
        lin = nn.Linear(i, o)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(o, i, generator=g))
            lin.bias.copy_(torch.randn(o, generator=g) * 0.5)
        return lin

    class ToyWithSelector(nn.Module):
        def __init__(self, n_out, n_tasks=None):
            super().__init__()
            self.bert_lora = Encoder()
            self.lora_linear_out = linear(H, n_out)
            if n_tasks:
                self.bert_selector = Encoder()
                self.lora_linear_selector = linear(H, n_tasks)
            self.lora_alignment = None

    models = types.ModuleType("models")
    models.BertLoRAWithSelector = ToyWithSelector
    models.CPMLoRAWithSelector = type("CPMLoRAWithSelector", (), {})
    models.LlamaLoRAWithSelector = type("LlamaLoRAWithSelector", (), {})
    utils = types.ModuleType("utils")
    utils.JensenShannonDivergence = object
    utils.dot_product = lambda *a, **k: None
    utils.complex_sample = lambda *a, **k: None
    utils.write_cache = lambda *a, **k: None
    utils.read_cache = lambda *a, **k: None
    tqdm = types.ModuleType("tqdm")
    tqdm.tqdm = lambda x, *a, **k: x
    skl = types.ModuleType("sklearn")
    skl.cluster = types.ModuleType("sklearn.cluster")
    skl.cluster.KMeans = object
    sys.modules.update({"models": models, "utils": utils, "tqdm": tqdm, "sklearn": skl, "sklearn.cluster": skl.cluster})
    sys.path.insert(0, a.repo)
    from global_var import GLOBAL  # noqa: E402  (theirs)
    from loss_similarity import LossSimilarity  # noqa: E402  (theirs)

    GLOBAL["continual_split_to_tags"] = SPLIT_TO_TAGS
    GLOBAL["continual_tag_to_split"] = {t: s for s, ts in SPLIT_TO_TAGS.items() for t in ts}

    def config(topk, teacher_forcing=True):
        return {"train": {"similarity": "dot", "null_expert_logit": -100, "continual_method": "our",
                          "use_expert_selector": True, "train_expert_selector": 2, "expert_topk": topk,
                          "teacher_forcing": teacher_forcing, "verbalizer_strategy": "mean", "negative_weight": 0.5},
                "dataset": {"special_part": "p3", "method_type": "linear", "use_mask": True, "extra_special_part": "",
                            "batch_limit_policy": 2},
                "plm": {"model_name": "bert"}, "vocab_size": V, "hidden_size": H, "label_num": 7,
                "is_test": False, "device": "cpu", "infer_device": "cpu"}

    # current model (task p3): its expert head + the selector over the 3 tasks; past experts p1, p2
    model = ToyWithSelector(len(SPLIT_TO_TAGS["p3"]), n_tasks=3)
    with torch.no_grad():  # no task prior in the selector head, so the choice varies per sample
        model.lora_linear_selector.bias.zero_()
    past = {s: ToyWithSelector(len(SPLIT_TO_TAGS[s])) for s in ["p1", "p2"]}
    tok = types.SimpleNamespace(mask_token_id=MASK_ID, cls_token_id=CLS_ID)
    ids = torch.randint(3, V, (B, L), generator=g)
    ids[torch.arange(B), torch.tensor([1, 2, 3, 1, 4, 2])] = MASK_ID
    tags = torch.tensor([0, 2, 5, 3, 6, 1])
    batch = {"input_ids": ids, "attention_mask": torch.ones(B, L, dtype=torch.long), "tags": tags,
             "sample_keys": [f"s{i}" for i in range(B)]}
    loss_w = {t: 1.0 for t in range(7)}
    loss_w[5] = 0.5

    T, meaning, scalars = {}, {}, {}
    T["input_ids"], meaning["input_ids"] = ids.to(torch.int64), "token ids [6, 5]; id 1 = [MASK] marks the representation position"
    T["tags"], meaning["tags"] = tags.to(torch.int64), "gold labels (global label ids 0..6); task of label: p1={0,1}, p2={2,3,4}, p3={5,6}"
    T["loss_weights"], meaning["loss_weights"] = torch.tensor([loss_w[t] for t in range(7)]), "tag_to_loss_weight per label"
    with torch.no_grad():
        for nm, m in [("current", model)] + [(f"expert_{s}", m) for s, m in past.items()]:
            for pn, p in m.named_parameters():
                T[f"{nm}.{pn}"] = p.detach().clone()
                meaning[f"{nm}.{pn}"] = f"toy {nm} parameter {pn}"
            mask = ids == MASK_ID
            rep = m.bert_lora(ids, None, True, True)["hidden_states"][-1][mask]
            T[f"{nm}.expert_logits"] = m.lora_linear_out(rep)
            meaning[f"{nm}.expert_logits"] = f"{nm}'s own-label logits at [MASK] (lora_linear_out)"
        rep_sel = model.bert_selector(ids, None, True, True)["hidden_states"][-1][ids == MASK_ID]
        T["selector_logits"] = model.lora_linear_selector(rep_sel)
        meaning["selector_logits"] = "selector logits over tasks p1..p3 (lora_linear_selector of the selector PET model)"

    # selector loss (training the selector): log_softmax over tasks, weighted NLL of the true task
    ls = LossSimilarity(config(1))
    logp, loss, _ = ls.generate_expert_selector_logits("train", model, tok, batch, tag_to_loss_weight=loss_w)
    T["selector_log_softmax"], meaning["selector_log_softmax"] = logp, "generate_expert_selector_logits: log_softmax(selector_logits)"
    scalars["selector_loss"] = float(loss)

    for k in (1, 2):
        for mode in ("test", "train"):
            ls = LossSimilarity(config(k))
            sel = ls.select_topk_experts(mode, model, tok, batch, k=k)
            onehot = torch.zeros(B, 3, dtype=torch.int32)
            order = torch.full((B, k), -1, dtype=torch.int32)
            for i, s in enumerate(sel):
                for j, sp in enumerate(s):
                    onehot[i, int(sp[1:]) - 1] = 1
                    order[i, j] = int(sp[1:]) - 1
            T[f"k{k}.{mode}.selected"] = order
            meaning[f"k{k}.{mode}.selected"] = (f"select_topk_experts(mode={mode}, k={k}): chosen task indices (0=p1) in the code's order"
                                                + ("; teacher forcing replaces the last choice by the true task if missing" if mode == "train" else ""))
            scalars[f"k{k}.{mode}.selected"] = [list(s) for s in sel]
            ls = LossSimilarity(config(k))
            ls.split_to_model_cache.update(past)
            extra = [("p1", None), ("p2", None)]
            if mode == "test":
                with torch.no_grad():
                    out = ls.generate_continual_logits("test", model, tok, batch, extra_module_info=extra)
            else:
                # Their code builds `torch.full(..., requires_grad=True).to(config['device'])` and then
                # writes into it in place; on their GPU `.to(cuda)` returns a non-leaf copy, on CPU it
                # returns the leaf itself and the in-place write raises. To get the GPU semantics on
                # CPU we make that `.to()` a dtype cast (float64 -> float32), which also copies.
                ls.float_type = torch.float64
                ls.config["device"] = torch.float32
                out, loss, _ = ls.generate_continual_logits("train", model, tok, batch, extra_module_info=extra,
                                                            tag_to_loss_weight=loss_w)
                scalars[f"k{k}.train.loss"] = float(loss)
            T[f"k{k}.{mode}.log_probs"] = out.detach()
            meaning[f"k{k}.{mode}.log_probs"] = (f"generate_continual_logits(mode={mode}, topk={k}): log_softmax over all 7 labels of the logits "
                                                 "assembled from the chosen experts (-100 for labels of unchosen experts)")

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = subprocess.check_output(["git", "-C", a.repo, "rev-parse", "HEAD"], text=True).strip()
    write_json(os.path.join(a.out, "case.json"), {
        "method": "conpet",
        "config": {"tasks": SPLIT_TO_TAGS, "current_task": "p3", "past_experts": ["p1", "p2"], "null_expert_logit": -100,
                   "topk": [1, 2], "teacher_forcing": True, "batch": B, "seq": L, "hidden": H, "vocab": V,
                   "mask_token_id": MASK_ID,
                   "toy_model": "e = emb[input_ids]; h = tanh((e + 4 * mean_over_tokens(e)) @ w.T); rep = h at [MASK]; logits = Linear(rep)"},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
    })
    write_json(os.path.join(a.out, "provenance.json"), {
        "method": "conpet",
        "paper": "ConPET: Continual Parameter-Efficient Tuning for Large Language Models (Song et al., 2023)",
        "repository": "Raincleared-Song/ConPET", "commit": commit,
        "files_used": ["loss_similarity.py", "global_var.py"],
        "objects_used": ["LossSimilarity.select_topk_experts", "LossSimilarity.generate_expert_selector_logits",
                         "LossSimilarity.generate_continual_logits", "LossSimilarity.get_current_splits",
                         "LossSimilarity.generate_continual_token_map", "LossSimilarity.forward_model_logits", "GLOBAL"],
        "command": "/usr/bin/python3 tools/refgen/conpet.py --repo ../refs/src/conpet --out test/fixtures/reference/conpet",
        "torch": torch.__version__, "date": a.date,
        "notes": ("models, utils, tqdm, sklearn stubbed; the BERT+LoRA experts and selector replaced by a toy encoder with the same "
                  "attributes (the selection/assembly logic is theirs); their logit cache disabled (read_cache -> None)."),
    })
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
