"""Reference fixture for PCB-merging (Du et al., NeurIPS 2024) from the authors' code.

Authors' code that runs here (repo duguodong7/pcb-merging):
  * pcb-merging.py: normalize, clamp, act, PCB_merge  -- the file the authors' README names as
    "the key steps" (intra-balancing, inter-balancing, drop, rescale). The file cannot be imported
    (after the functions it runs an evolutionary-search script on undefined globals), so we parse
    it with `ast` and exec only its import statements and its function definitions, unchanged.
  * vision_source_code/pcb_ES.py: PCB and compute_acc -- the variant their vision experiments
    (with evolutionary search of the lambdas) use; imported as a module with its project
    imports (utils.eval, utils.tpa_utils, args) stubbed. compute_acc is called with stubbed
    vector_to_state_dict / eval so that their merge line (lambda-weighted, scale-normalised sum)
    runs and we capture the merged task vector it builds.
  * vision_source_code/pcb.py: a third variant whose inter-balancing differs again; its logic is
    inline in `if __name__ == "__main__":`; we exec that block's statements from
    `all_checks = ...` up to `merged_tv = ...` unchanged (ast), with their helper functions.

Inputs: the three 6x5 task tensors and weights [1.0, 0.6, 0.3] of
../shared/fixtures/peft-0.13/merge-utils.json (flattened row-major to [3, 30]).
"""
import argparse
import ast
import datetime
import json
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io_adapterops import (DEFAULT_TOL, git_commit, setup_torch, tensor_list,  # noqa: E402
                                   write_json, write_safetensors)

MERGE_UTILS = "../shared/fixtures/peft-0.13/merge-utils.json"
RATIOS = [0.3, 0.6]


def load_functions(path, names=None):
    """Exec the imports and top-level function definitions of a script, nothing else."""
    src = open(path).read()
    tree = ast.parse(src)
    first_def = min(n.lineno for n in tree.body if isinstance(n, ast.FunctionDef))
    # the header imports (torch, logging, numpy, copy, csv); the script tail imports nevergrad
    keep = [n for n in tree.body if (isinstance(n, (ast.Import, ast.ImportFrom)) and n.lineno < first_def)
            or (isinstance(n, ast.FunctionDef) and (names is None or n.name in names))]
    ns = {"__name__": "pcb_key_steps"}
    exec(compile(ast.Module(body=keep, type_ignores=[]), path, "exec"), ns)
    return ns


def stub_vision_imports(captured):
    utils = types.ModuleType("utils")
    ev = types.ModuleType("utils.eval")
    ev.eval_single_dataset = lambda model, dataset, args: 0.0
    tpa = types.ModuleType("utils.tpa_utils")
    tpa.load_vit = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("not used"))

    def vector_to_state_dict(vec, ref, remove_keys=()):
        captured.append(vec.clone())
        return {}
    tpa.vector_to_state_dict = vector_to_state_dict
    tpa.loadCheckpoint_intoModel = lambda ckpt, model: model
    args = types.ModuleType("args")
    args.parse_arguments = lambda: types.SimpleNamespace()
    utils.eval, utils.tpa_utils = ev, tpa
    sys.modules.update({"utils": utils, "utils.eval": ev, "utils.tpa_utils": tpa, "args": args})


def pcb_py_inline(path, torch, tv_flat_checks, att_ratio, lams):
    """Run the statements of vision_source_code/pcb.py's main block (their code) on our inputs."""
    tree = ast.parse(open(path).read())
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)
             and n.name in ("normalize", "clamp", "act")]
    main = [n for n in tree.body if isinstance(n, ast.If)][-1].body
    body = []
    for st in main:
        body.append(st)
        if isinstance(st, ast.Assign) and getattr(st.targets[0], "id", None) == "merged_tv":
            break
    # drop their hard-coded assignments of att_ratio and lams (we set them)
    body = [st for st in body if not (isinstance(st, ast.Assign)
                                      and getattr(st.targets[0], "id", None) in ("att_ratio", "lams"))]
    ns = {"torch": torch, "tv_flat_checks": tv_flat_checks}
    exec(compile(ast.Module(body=funcs, type_ignores=[]), path, "exec"), ns)
    # re-insert ours before the body runs
    ns["att_ratio"] = att_ratio
    ns["lams"] = lams
    exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), ns)
    return ns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    a = ap.parse_args()
    torch = setup_torch(0)
    os.makedirs(a.out, exist_ok=True)

    mu = json.load(open(MERGE_UTILS))
    tasks = torch.tensor([t["data"] for t in mu["tasks"]], dtype=torch.float32)  # [3, 30]
    weights = torch.tensor(mu["weights"], dtype=torch.float32)
    n, d = tasks.shape

    key = load_functions(os.path.join(a.repo, "pcb-merging.py"))
    captured = []
    stub_vision_imports(captured)
    sys.path.insert(0, os.path.join(a.repo, "vision_source_code"))
    import pcb_ES  # noqa: E402  (their module)

    T, meaning = {}, {}
    T["tasks"] = tasks.reshape(n, 6, 5)
    meaning["tasks"] = "the 3 task vectors tau_i of merge-utils.json, [n=3, 6, 5]; the method works on tasks.reshape(3, 30) (row-major)"
    T["weights"] = weights
    meaning["weights"] = "per-task lambda_i of merge-utils.json"

    # ---- variant A: pcb-merging.py PCB_merge (README's key steps), intermediates recomputed by
    # calling their helper functions in the order PCB_merge does.
    normalize, clamp, act = key["normalize"], key["clamp"], key["act"]
    abs_c = clamp(torch.abs(tasks), min_ratio=0.0001, max_ratio=0.0001)
    T["A_abs_clamped"] = abs_c.reshape(n, 6, 5)
    meaning["A_abs_clamped"] = "clamp(|tau|, 0.0001, 0.0001) per task row (pcb-merging.py:34)"
    intra = torch.exp(n * normalize(abs_c, 1) ** 2)
    T["A_intra"] = intra.reshape(n, 6, 5)
    meaning["A_intra"] = "intra-balancing exp(n * minmax_row(abs_clamped)^2) (pcb-merging.py:36-37)"
    inter = act(tasks * torch.sum(tasks, dim=0))
    T["A_inter"] = inter.reshape(n, 6, 5)
    meaning["A_inter"] = "inter-balancing tanh(tau_i * sum_j tau_j) (pcb-merging.py:38-39)"
    T["A_balancing"] = (intra * inter).reshape(n, 6, 5)
    meaning["A_balancing"] = "A_intra * A_inter (pcb-merging.py:40)"
    scalars = {}
    for r in RATIOS:
        tag = f"r{int(round(r * 100)):02d}"
        merged, clamped_checks, scale = key["PCB_merge"](tasks, pcb_ratio=r)
        T[f"A_{tag}_scale"] = scale.reshape(n, 6, 5)
        meaning[f"A_{tag}_scale"] = f"PCB_merge(pcb_ratio={r}) scale: minmax_row(clamp(balancing, 1-ratio, 0)) (pcb-merging.py:42)"
        T[f"A_{tag}_merged"] = merged.reshape(6, 5)
        meaning[f"A_{tag}_merged"] = f"PCB_merge(pcb_ratio={r}) merged task vector, no lambdas: sum_i tau'_i*s_i / max(sum_i s_i, 1e-12)"
        lam_merged = torch.sum(clamped_checks * weights.unsqueeze(1) * scale, 0) / torch.clamp(torch.sum(scale, 0), min=1e-12)
        T[f"A_{tag}_merged_weighted"] = lam_merged.reshape(6, 5)
        meaning[f"A_{tag}_merged_weighted"] = (f"pcb_ratio={r}, lambdas=weights: the ES line of pcb-merging.py feeds PCB_merge's "
                                              "clamped checks and scale to compute_acc, whose merge (pcb_ES.py:35-36) is "
                                              "sum_i lam_i*tau'_i*s_i / max(sum_i s_i,1e-12); computed with that formula")
        scalars[f"A_{tag}_nonzero_scale_per_task"] = [int(x) for x in (scale > 0).sum(1)]
    T["A_clamped_checks"] = clamped_checks.reshape(n, 6, 5)
    meaning["A_clamped_checks"] = "sign(tau) * A_abs_clamped: the task vectors PCB_merge averages (pcb-merging.py:35)"

    # ---- variant B: vision_source_code/pcb_ES.py PCB (+ its compute_acc merge)
    for r in RATIOS:
        tag = f"r{int(round(r * 100)):02d}"
        cc, scale = pcb_ES.PCB(tasks, pcb_ratio=r)
        T[f"ES_{tag}_scale"] = scale.reshape(n, 6, 5)
        meaning[f"ES_{tag}_scale"] = f"pcb_ES.PCB(pcb_ratio={r}) scale"
        captured.clear()
        pcb_ES.compute_acc(weights.tolist(), cc, scale, torch.zeros(d), None, ["stub"], types.SimpleNamespace(),
                           "test", {}, [])
        T[f"ES_{tag}_merged_weighted"] = captured[0].reshape(6, 5)
        meaning[f"ES_{tag}_merged_weighted"] = f"pcb_ES.compute_acc merged task vector with lams=weights, pcb_ratio={r} (captured at vector_to_state_dict)"
        captured.clear()
        pcb_ES.compute_acc([1.0] * n, cc, scale, torch.zeros(d), None, ["stub"], types.SimpleNamespace(), "test", {}, [])
        T[f"ES_{tag}_merged"] = captured[0].reshape(6, 5)
        meaning[f"ES_{tag}_merged"] = f"same with lams=1, pcb_ratio={r}"
    T["ES_clamped_checks"] = cc.reshape(n, 6, 5)
    meaning["ES_clamped_checks"] = "pcb_ES.PCB clamped checks: sign(tau)*clamp(|tau|, 0.01, 0.01)"
    absc = pcb_ES.clamp(torch.abs(tasks), min_ratio=0.01, max_ratio=0.01)
    nrm = torch.sign(tasks) * pcb_ES.normalize(absc, dim=1)
    T["ES_intra"] = torch.exp(n * pcb_ES.normalize(absc, 1) ** 2).reshape(n, 6, 5)
    meaning["ES_intra"] = "pcb_ES.py:20-21 exp(n*minmax_row(clamp(|tau|,0.01,0.01))^2)"
    T["ES_inter"] = torch.vstack([torch.sum(torch.tanh(nrm[i] * nrm), 0) for i in range(n)]).reshape(n, 6, 5)
    meaning["ES_inter"] = "pcb_ES.py:22-27 inter_i = sum_j tanh(nhat_i * nhat_j), nhat = sign(tau)*minmax_row(clamped |tau|)"

    # ---- variant C: vision_source_code/pcb.py inline main block
    for r in RATIOS:
        tag = f"r{int(round(r * 100)):02d}"
        ns = pcb_py_inline(os.path.join(a.repo, "vision_source_code", "pcb.py"), torch, tasks, r,
                           weights.unsqueeze(1))
        T[f"V_{tag}_scale"] = ns["scale"].reshape(n, 6, 5)
        meaning[f"V_{tag}_scale"] = f"pcb.py main block scale, att_ratio={r}"
        T[f"V_{tag}_merged_weighted"] = ns["merged_tv"].reshape(6, 5)
        meaning[f"V_{tag}_merged_weighted"] = f"pcb.py main block merged_tv with lams=weights, att_ratio={r}"
    T["V_inter"] = ns["inter"].reshape(n, 6, 5)
    meaning["V_inter"] = "pcb.py: tanh(tau_i * sum_j nhat_j), nhat = sign(tau)*minmax_row(clamp(|tau|,0.01,0.01))"
    T["V_intra"] = ns["intra"].reshape(n, 6, 5)
    meaning["V_intra"] = "pcb.py intra (same formula as ES_intra)"

    write_safetensors(os.path.join(a.out, "tensors.safetensors"), T)
    commit = git_commit(a.repo)
    case = {
        "method": "pcb_merging",
        "inputs_from": "../shared/fixtures/peft-0.13/merge-utils.json (tasks, weights); flatten each task row-major to d=30",
        "config": {"n_tasks": n, "d": d, "task_shape": [6, 5], "pcb_ratios": RATIOS,
                   "A_abs_clamp_ratio": 0.0001, "ES_and_V_abs_clamp_ratio": 0.01,
                   "tie_to_merge_utils": "pcb_ratio 0.3 / 0.6 sit beside density 0.3 / 0.6 of magnitude_prune and ties in merge-utils.json"},
        "scalars": scalars,
        "tensors": tensor_list(T, meaning),
        "tolerance": DEFAULT_TOL,
        "primary_variant": "A (pcb-merging.py PCB_merge)",
    }
    write_json(os.path.join(a.out, "case.json"), case)
    prov = {
        "method": "pcb_merging",
        "paper": "Parameter Competition Balancing for Model Merging (Du et al., NeurIPS 2024)",
        "repository": "duguodong7/pcb-merging", "commit": commit,
        "files_used": ["pcb-merging.py", "vision_source_code/pcb_ES.py", "vision_source_code/pcb.py"],
        "objects_used": ["normalize", "clamp", "act", "PCB_merge", "pcb_ES.PCB", "pcb_ES.compute_acc",
                         "pcb.py __main__ block (statements up to merged_tv)"],
        "command": "/usr/bin/python3 tools/refgen/pcb_merging.py --repo ../refs/src/pcb-merging --out test/fixtures/reference/pcb_merging",
        "torch": torch.__version__, "date": a.date,
        "notes": ("pcb-merging.py is exec'd via ast (imports + defs only) because its tail is an un-runnable script; "
                  "pcb_ES.py imported with utils.eval/utils.tpa_utils/args stubbed; pcb.py main block statements exec'd "
                  "with att_ratio and lams set by us. The A_*_merged_weighted tensors are our application of compute_acc's "
                  "formula to PCB_merge outputs (pcb-merging.py calls an undefined compute_acc)."),
    }
    write_json(os.path.join(a.out, "provenance.json"), prov)
    print("wrote", a.out, len(T), "tensors")


if __name__ == "__main__":
    main()
