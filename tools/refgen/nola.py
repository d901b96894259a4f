#!/usr/bin/env python3
"""NOLA reference fixture, computed by the authors' code (UCDvision/NOLA, pinned below).

Authors' objects that run here:
  case "lora" (the GPT-2 / LLaMA-2 variant, README "Simple Code of NOLA"):
    gpt/src/model_nola.py: LoRA(use_nola=True) -> NOLALinear -> GenerateParams (forward and its custom backward)
  case "vit" (the ViT variant):
    vit/NOLA.py: NOLA2;  vit/nola_mlp.py: NOLA_mlp (base fc output + NOLA2 output)
Our code only builds inputs, reads the random bases out of GenerateParams (one-hot coefficient
vectors), and writes/self-checks the fixture.

usage: /usr/bin/python3 tools/refgen/nola.py --repo ../refs/src/nola --out test/fixtures/reference/nola
"""
import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io_lowrank_a as io  # noqa: E402

REPOSITORY = "UCDvision/NOLA"
COMMIT = "03c7027c244b5ab16de540dd8e37ea4b4e614129"
PINNED = {
    "gpt/src/model_nola.py": "11fda1e0a4f464f321fc737f5408ed66c33784d2",
    "vit/NOLA.py": "b41d5683d271d19aaab443d0da292a4e2d886bfc",
    "vit/nola_mlp.py": "9eb00d64ca9ee09516c98866a87b424cdfa69592",
    "vit/utils/utils.py": "106a08a6bb6eb3479217736336ca16bfda3013eb",
}

IN, OUT, N = 16, 12, 5
# case "lora": GPT-2 script uses NUM_BASIS=512, RANK=8, LORA_ALPHA=8; scaled down here.
RANK_L, NB_L, ALPHA_L = 4, 8, 8.0
# case "vit": vit/run.sh uses ka=kb=1024, rank=1; scaled down here (ka != kb on purpose).
RANK_V, KA, KB = 4, 6, 5


def import_authors(repo):
    sys.path.insert(0, os.path.join(repo, "gpt"))  # `import loralib` in model_nola.py
    sys.path.insert(0, os.path.join(repo, "gpt", "src"))
    sys.path.insert(0, os.path.join(repo, "vit"))
    # vit/nola_mlp.py imports timm/einops/safetensors/base_vit at module level; NOLA_mlp uses none of them.
    io.stub("timm")
    io.stub("timm.models.vision_transformer", VisionTransformer=type("VisionTransformer", (nn.Module,), {}))
    io.stub("einops", rearrange=None)
    io.stub("safetensors", safe_open=None)
    io.stub("safetensors.torch", save_file=None)
    io.stub("base_vit", ViT=type("ViT", (nn.Module,), {}))
    import model_nola  # gpt/src/model_nola.py
    import NOLA  # vit/NOLA.py
    import nola_mlp  # vit/nola_mlp.py
    return model_nola, NOLA, nola_mlp


def bases_of(gen, nbasis, out_dim, in_dim, seed):
    """Read the frozen basis out of the authors' GenerateParams: basis i = GenerateParams(e_i)."""
    eye = torch.eye(nbasis)
    with torch.no_grad():
        return torch.stack([gen(eye[i], out_dim, in_dim, seed) for i in range(nbasis)])


def case_lora(model_nola, T, M):
    torch.manual_seed(0)
    base = nn.Linear(IN, OUT)
    lora = model_nola.LoRA(IN, OUT, use_nola=True, num_basis=NB_L, rank=RANK_L, alpha=ALPHA_L)
    gen = model_nola.GenerateParams.apply
    A, B = lora.lora_A, lora.lora_B  # NOLALinear(in, rank), NOLALinear(rank, out)
    assert float(A.coefficients.abs().sum()) == 0 and float(B.coefficients.abs().sum()) == 0
    assert float(B.weight.abs().sum()) == 0
    trainable = {n: p for n, p in lora.named_parameters() if p.requires_grad}
    assert sorted(trainable) == ["lora_A.coefficients", "lora_B.coefficients"], sorted(trainable)

    torch.manual_seed(1)
    x = torch.randn(N, IN)
    G = torch.randn(N, OUT)
    with torch.no_grad():
        y_init = base(x) + lora(x)
    A_bases = bases_of(gen, NB_L, RANK_L, IN, A.seed)
    B_bases = bases_of(gen, NB_L, OUT, RANK_L, B.seed)
    # regenerating with the same seed gives the same basis (the authors' forward/backward rely on it)
    assert torch.equal(A_bases, bases_of(gen, NB_L, RANK_L, IN, A.seed))

    torch.manual_seed(2)
    with torch.no_grad():  # coefficients are zero at init; set them so every term shows
        A.coefficients.copy_(0.1 * torch.randn(NB_L))
        B.coefficients.copy_(0.1 * torch.randn(NB_L))
    for p in list(base.parameters()):
        p.requires_grad_(False)
    y = base(x) + lora(x)
    (y * G).sum().backward()
    with torch.no_grad():
        A_eff = gen(A.coefficients, RANK_L, IN, A.seed) + A.weight
        B_eff = gen(B.coefficients, OUT, RANK_L, B.seed) + B.weight
        delta_w = lora.scale * (B_eff @ A_eff)  # our product of the authors' effective factors

    # self-check: README recipe from stored tensors
    Ad = A.weight.double() + torch.einsum("b,boi->oi", A.coefficients.double(), A_bases.double())
    Bd = torch.einsum("b,boi->oi", B.coefficients.double(), B_bases.double())
    ca = A.coefficients.detach().double().requires_grad_(True)
    cb = B.coefficients.detach().double().requires_grad_(True)
    Ad2 = A.weight.double() + torch.einsum("b,boi->oi", ca, A_bases.double())
    Bd2 = torch.einsum("b,boi->oi", cb, B_bases.double())
    yd = x.double() @ base.weight.double().T + base.bias.double() + (ALPHA_L / RANK_L) * (x.double() @ Ad2.T @ Bd2.T)
    (yd * G.double()).sum().backward()
    io.assert_close("lora.y", yd, y)
    io.assert_close("lora.A_eff", Ad, A_eff)
    io.assert_close("lora.B_eff", Bd, B_eff)
    io.assert_close("lora.grad_alpha", ca.grad, A.coefficients.grad)
    io.assert_close("lora.grad_beta", cb.grad, B.coefficients.grad)
    io.assert_close("lora.y_init", x @ base.weight.T + base.bias, y_init)

    T.update({
        "lora.W": base.weight, "lora.bias": base.bias, "lora.x": x, "lora.G": G,
        "lora.A_weight": A.weight, "lora.B_weight": B.weight,
        "lora.A_seed": A.seed.detach().clone(), "lora.B_seed": B.seed.detach().clone(),
        "lora.A_bases": A_bases, "lora.B_bases": B_bases,
        "lora.alpha": A.coefficients, "lora.beta": B.coefficients,
        "lora.y_init": y_init, "lora.y": y,
        "lora.A_eff": A_eff, "lora.B_eff": B_eff, "lora.delta_w": delta_w, "lora.merged_w": base.weight + delta_w,
        "lora.grad_alpha": A.coefficients.grad, "lora.grad_beta": B.coefficients.grad,
    })
    M.update({
        "lora.W": "frozen base weight W0 [out, in] (our nn.Linear; in GPT-2 it is the q/v projection)",
        "lora.bias": "frozen base bias [out]",
        "lora.x": "input [n, in]",
        "lora.G": "upstream gradient: loss L = sum(y * G)",
        "lora.A_weight": "lora_A.weight [rank, in]: FROZEN offset of A, kaiming_uniform_(a=sqrt(5)) at init (nn.Linear default)",
        "lora.B_weight": "lora_B.weight [out, rank]: FROZEN offset of B, zeros at init (stays zero)",
        "lora.A_seed": "lora_A.seed [1] int64: torch.randint(1e10) drawn at construction; torch.manual_seed(seed) regenerates A_bases",
        "lora.B_seed": "lora_B.seed [1] int64, likewise for B_bases",
        "lora.A_bases": "[num_basis, rank, in] frozen random basis of A: U(-1,1)/sqrt(num_basis), generated by GenerateParams under torch.manual_seed(A_seed)",
        "lora.B_bases": "[num_basis, out, rank] frozen random basis of B: U(-1,1)/sqrt(num_basis), under torch.manual_seed(B_seed)",
        "lora.alpha": "lora_A.coefficients [num_basis] (trainable; zeros at init, set to 0.1*randn here)",
        "lora.beta": "lora_B.coefficients [num_basis] (trainable; zeros at init, set to 0.1*randn here)",
        "lora.y_init": "output with the init state (coefficients zero): equals x @ W.T + bias",
        "lora.y": "output y = x @ W.T + bias + (lora_alpha/rank) * x @ A_eff.T @ B_eff.T",
        "lora.A_eff": "A_eff = A_weight + sum_i alpha_i A_bases[i]  [rank, in]",
        "lora.B_eff": "B_eff = B_weight + sum_j beta_j B_bases[j]  [out, rank]",
        "lora.delta_w": "(lora_alpha/rank) * B_eff @ A_eff  [out, in]",
        "lora.merged_w": "W + delta_w (our merge; the authors' LLaMA merge() ignores the NOLA part, see README)",
        "lora.grad_alpha": "dL/d alpha from the authors' GenerateParams.backward",
        "lora.grad_beta": "dL/d beta from the authors' GenerateParams.backward",
    })
    return {
        "in_features": IN, "out_features": OUT, "n": N, "rank": RANK_L, "num_basis_A": NB_L, "num_basis_B": NB_L,
        "lora_alpha": ALPHA_L, "scale": lora.scale,
        "trainable_parameters": sum(p.numel() for p in trainable.values()),
        "trainable_formula": "num_basis_A + num_basis_B per adapted weight (the LoRA class uses one num_basis for both)",
        "loss": float((y * G).sum()),
    }


def case_vit(NOLA, nola_mlp, T, M):
    torch.manual_seed(3)
    fc = nn.Linear(IN, OUT)
    nola = NOLA.NOLA2(IN, OUT, ka=KA, kb=KB, rank=RANK_V)  # calls torch.manual_seed(0) inside
    twin = NOLA.NOLA2(IN, OUT, ka=KA, kb=KB, rank=RANK_V)
    same_bases = bool(torch.equal(nola.A, twin.A) and torch.equal(nola.B, twin.B))
    assert same_bases  # every NOLA2 of one shape gets the same bases (manual_seed(0) in __init__)
    layer = nola_mlp.NOLA_mlp(fc, nola)
    for p in fc.parameters():
        p.requires_grad_(False)
    trainable = {n: p for n, p in layer.named_parameters() if p.requires_grad}
    assert sorted(trainable) == ["nola_fc.nola_alpha", "nola_fc.nola_beta"], sorted(trainable)
    alpha0 = nola.nola_alpha.detach().clone()
    beta0 = nola.nola_beta.detach().clone()

    torch.manual_seed(4)
    x = torch.randn(N, IN)
    G = torch.randn(N, OUT)
    with torch.no_grad():
        y_init = layer(x)
    with torch.no_grad():
        nola.nola_alpha.add_(0.1 * torch.randn(KA))
        nola.nola_beta.add_(0.1 * torch.randn(KB))
    y = layer(x)
    (y * G).sum().backward()
    with torch.no_grad():
        A_eff = torch.einsum("b,bdr->dr", nola.nola_alpha, nola.A)
        B_eff = torch.einsum("b,bdr->dr", nola.nola_beta, nola.B)
        delta_w = (nola.scale * (A_eff @ B_eff)).T  # [out, in]

    a = nola.nola_alpha.detach().double().requires_grad_(True)
    b = nola.nola_beta.detach().double().requires_grad_(True)
    Ad = torch.einsum("b,bdr->dr", a, nola.A.double())
    Bd = torch.einsum("b,bdr->dr", b, nola.B.double())
    yd = x.double() @ fc.weight.double().T + fc.bias.double() + (1.0 / RANK_V) * (x.double() @ Ad @ Bd)
    (yd * G.double()).sum().backward()
    io.assert_close("vit.y", yd, y)
    io.assert_close("vit.grad_alpha", a.grad, nola.nola_alpha.grad)
    io.assert_close("vit.grad_beta", b.grad, nola.nola_beta.grad)
    A0 = torch.einsum("b,bdr->dr", alpha0.double(), nola.A.double())
    B0 = torch.einsum("b,bdr->dr", beta0.double(), nola.B.double())
    io.assert_close("vit.y_init", x.double() @ fc.weight.double().T + fc.bias.double() + (x.double() @ A0 @ B0) / RANK_V, y_init)

    T.update({
        "vit.W": fc.weight, "vit.bias": fc.bias, "vit.x": x, "vit.G": G,
        "vit.A_bases": nola.A, "vit.B_bases": nola.B,
        "vit.alpha_init": alpha0, "vit.beta_init": beta0,
        "vit.alpha": nola.nola_alpha, "vit.beta": nola.nola_beta,
        "vit.y_init": y_init, "vit.y": y, "vit.delta_w": delta_w, "vit.merged_w": fc.weight + delta_w,
        "vit.grad_alpha": nola.nola_alpha.grad, "vit.grad_beta": nola.nola_beta.grad,
    })
    M.update({
        "vit.W": "frozen fc weight [out, in] (timm Mlp fc1/fc2)",
        "vit.bias": "frozen fc bias [out]",
        "vit.x": "input [n, in]",
        "vit.G": "upstream gradient: loss L = sum(y * G)",
        "vit.A_bases": "NOLA2.A [ka, in, rank] frozen (nn.Parameter, requires_grad=False): kaiming_uniform_(a=sqrt(5)) on the 3-D tensor = U(-1/sqrt(in*rank), +1/sqrt(in*rank)), drawn right after torch.manual_seed(0)",
        "vit.B_bases": "NOLA2.B [kb, rank, out] frozen: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(rank*out), +1/sqrt(rank*out)), drawn after A",
        "vit.alpha_init": "nola_alpha at init: ones(ka)/ka (NOT zero, so the init update is not zero)",
        "vit.beta_init": "nola_beta at init: ones(kb)/kb",
        "vit.alpha": "nola_alpha used for y/grads (init + 0.1*randn)",
        "vit.beta": "nola_beta used for y/grads (init + 0.1*randn)",
        "vit.y_init": "output with alpha_init/beta_init: x @ W.T + bias + (1/rank) x @ A0 @ B0, nonzero update",
        "vit.y": "output y = x @ W.T + bias + (1/rank) * (x @ A_eff) @ B_eff, A_eff = sum_i alpha_i A_bases[i] [in, rank], B_eff = sum_j beta_j B_bases[j] [rank, out]",
        "vit.delta_w": "((1/rank) * A_eff @ B_eff).T  [out, in]",
        "vit.merged_w": "W + delta_w (our merge; the ViT code never merges)",
        "vit.grad_alpha": "dL/d nola_alpha (autograd through the authors' NOLA2.forward)",
        "vit.grad_beta": "dL/d nola_beta",
    })
    return {
        "in_features": IN, "out_features": OUT, "n": N, "rank": RANK_V, "ka": KA, "kb": KB, "scale": nola.scale,
        "bases_identical_for_every_layer_of_same_shape": same_bases,
        "trainable_parameters": sum(p.numel() for p in trainable.values()),
        "trainable_formula": "ka + kb per adapted weight",
        "loss": float((y * G).sum()),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    io.check_checkout(args.repo, PINNED)
    io.setup_determinism(0)
    model_nola, NOLA, nola_mlp = import_authors(args.repo)
    T, M = {}, {}
    lora_cfg = case_lora(model_nola, T, M)
    vit_cfg = case_vit(NOLA, nola_mlp, T, M)
    case = {
        "method": "nola",
        "cases": {"lora": lora_cfg, "vit": vit_cfg},
        "dtype": "float32",
        "seeds": "torch.manual_seed(0..4) before each block of our own random draws; NOLA2.__init__ reseeds with 0 itself",
    }
    notes = (
        "Two published variants. 'lora' = gpt/src/model_nola.py LoRA(use_nola=True) (same code in llama/peft/tuners/lora.py "
        "and README): A = A0 + sum alpha_i A_i with a frozen kaiming A0, B = 0 + sum beta_j B_j, bases U(-1,1)/sqrt(num_basis) "
        "regenerated from a per-matrix int64 seed, output scaled by lora_alpha/rank, coefficients zero at init. "
        "'vit' = vit/NOLA.py NOLA2 via vit/nola_mlp.py NOLA_mlp: no A0, kaiming-uniform bases drawn after torch.manual_seed(0) "
        "(identical for every layer of one shape), coefficients 1/ka and 1/kb at init (nonzero update at init), scale 1/rank. "
        "Bases are stored (JS cannot reproduce torch's RNG)."
    )
    prov = io.provenance("nola", "NOLA: Compressing LoRA using Linear Combination of Random Basis (Koohpayegani et al., ICLR 2024)",
                         REPOSITORY, COMMIT, sorted(PINNED), ["LoRA", "NOLALinear", "GenerateParams", "NOLA2", "NOLA_mlp"],
                         notes, PINNED, args.repo)
    size = io.write_fixture(args.out, prov, case, T, M)
    print(f"nola: wrote {args.out} ({size} bytes of tensors)")


if __name__ == "__main__":
    main()
