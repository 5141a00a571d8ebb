#!/usr/bin/env python3
"""Write test/fixtures/torch-lora/: two LoRA adapters over the torch-tiny base, and
what PyTorch says about them.

    /usr/bin/python3 scripts/reference/make_lora_fixtures.py [--out test/fixtures/torch-lora]

LoRA as PEFT computes it for GPT-2's Conv1D layers (peft/tuners/lora/layer.py,
`Linear` with fan_in_fan_out=True): the base weight is used transposed, and

    y = x @ W + b + (alpha / r) * dropout(x) @ A.T @ B.T

with lora_A.weight [r, in] and lora_B.weight [out, r] (nn.Linear weights). Only A
and B get gradients. Each config folder is an adapter in PEFT's layout
(adapter_config.json + adapter_model.safetensors, keys
base_model.model.transformer.h.N.<module>.lora_{A,B}.weight) whose base is
../../torch-tiny; expected.safetensors holds the float64 logits, the loss, the
gradients of every A and B (cast to float32), and the logits of the merged model
W' = W + (alpha/r) * (B @ A).T. B is random (not PEFT's zero init) so that
every gradient is non-trivial. Dropout is 0 (eval and train agree).
The run fails unless float32 and float64 agree to 1e-5 and autograd agrees with
central differences.
"""
import argparse
import json
import os
import sys

try:
    import torch
except ImportError as e:
    sys.exit(f"{e}: run this with a Python that has torch, e.g. /usr/bin/python3 {sys.argv[0]}")

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import load_model_dir, read_safetensors, write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASE = os.path.join(ROOT, "test", "fixtures", "torch-tiny")
PREFIX = "base_model.model.transformer."
MODULES = {"c_attn": "attn.c_attn", "attn.c_proj": "attn.c_proj", "c_fc": "mlp.c_fc", "mlp.c_proj": "mlp.c_proj"}

# two configs: different ranks, alphas and targets (PEFT's target_modules names match a
# module name's suffix: "c_proj" selects both attn.c_proj and mlp.c_proj)
CONFIGS = {
    "r4-all": {"r": 4, "lora_alpha": 8.0, "target_modules": ["c_attn", "c_proj", "c_fc"], "seed": 11},
    "r2-attn": {"r": 2, "lora_alpha": 5.0, "target_modules": ["c_attn"], "seed": 12},
}
TOKENS_SEED = 3
B_STD = 0.2


def targeted(module, targets):
    return any(module == t or module.endswith("." + t) for t in targets)


def conv1d_modules(model):
    for l, block in enumerate(model.h):
        for short, m in (("attn.c_attn", block.attn.c_attn), ("attn.c_proj", block.attn.c_proj),
                         ("mlp.c_fc", block.mlp.c_fc), ("mlp.c_proj", block.mlp.c_proj)):
            yield f"h.{l}.{short}", m


def add_lora(model, adapters, scale):
    """Patches each targeted Conv1D's forward to add scale * x @ A.T @ B.T."""
    for name, m in conv1d_modules(model):
        if name not in adapters:
            continue
        A, B = adapters[name]

        def forward(x, m=m, A=A, B=B):
            return x @ m.weight + m.bias + scale * ((x @ A.t()) @ B.t())
        m.forward = forward


def make_adapters(model, cfg, dtype):
    g = torch.Generator().manual_seed(cfg["seed"])
    r = cfg["r"]
    adapters = {}
    for name, m in conv1d_modules(model):
        if not targeted(name.split(".", 2)[2], cfg["target_modules"]):
            continue
        n_in, n_out = m.weight.shape
        # A: PEFT's kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); B random here (see above)
        A = (torch.rand(r, n_in, generator=g, dtype=torch.float64) * 2 - 1) / n_in ** 0.5
        B = torch.randn(n_out, r, generator=g, dtype=torch.float64) * B_STD
        adapters[name] = (A.to(torch.float32), B.to(torch.float32))
    return adapters


def run(cfg, adapters32, tokens, dtype):
    model = load_model_dir(BASE, dtype=dtype)
    for p in model.parameters():
        p.requires_grad_(False)
    adapters = {n: (A.detach().to(dtype).clone().requires_grad_(True), B.detach().to(dtype).clone().requires_grad_(True)) for n, (A, B) in adapters32.items()}
    add_lora(model, adapters, cfg["lora_alpha"] / cfg["r"])
    logits = model(tokens).detach()
    loss = model.loss(tokens)
    loss.backward()
    grads = {}
    for n, (A, B) in adapters.items():
        grads[f"{n}.lora_A.weight"] = A.grad.detach().clone()
        grads[f"{n}.lora_B.weight"] = B.grad.detach().clone()
    # merged: W' = W + scale * (B @ A).T (Conv1D stores [in, out])
    merged = load_model_dir(BASE, dtype=dtype)
    with torch.no_grad():
        for name, m in conv1d_modules(merged):
            if name in adapters:
                A, B = adapters[name]
                m.weight.add_((cfg["lora_alpha"] / cfg["r"]) * (B.detach() @ A.detach()).t())
    merged_logits = merged(tokens).detach()
    return model, adapters, logits, loss.detach(), grads, merged_logits


def rel(a, b):
    a, b = a.double(), b.double()
    s = b.abs().max().item()
    return (a - b).abs().max().item() / (s if s > 0 else 1.0)


def finite_differences(model, adapters, tokens, grads, h=1e-6):
    worst = 0.0
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for n, (A, B) in adapters.items():
            for which, t in (("lora_A", A), ("lora_B", B)):
                ad = grads[f"{n}.{which}.weight"].view(-1)
                flat = t.view(-1)
                for i in [int(ad.abs().argmax())] + torch.randint(0, flat.numel(), (2,), generator=g).tolist():
                    old = flat[i].item()
                    flat[i] = old + h
                    lp = model.loss(tokens).item()
                    flat[i] = old - h
                    lm = model.loss(tokens).item()
                    flat[i] = old
                    fd = (lp - lm) / (2 * h)
                    worst = max(worst, abs(fd - ad[i].item()) / max(abs(fd), abs(ad[i].item()), 1e-4))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "torch-lora"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    base_case = json.load(open(os.path.join(BASE, "case.json")))
    tokens = torch.tensor(base_case["tokens"], dtype=torch.long)
    for name, cfg in CONFIGS.items():
        base32 = load_model_dir(BASE, dtype=torch.float32)
        adapters32 = make_adapters(base32, cfg, torch.float32)
        _, _, l32, loss32, g32, m32 = run(cfg, adapters32, tokens, torch.float32)
        model64, ad64, l64, loss64, g64, m64 = run(cfg, adapters32, tokens, torch.float64)
        errors = {"logits": rel(l32, l64), "loss": rel(loss32, loss64), "merged_logits": rel(m32, m64)}
        errors.update({f"grad.{k}": rel(g32[k], g64[k]) for k in g64})
        bad = {k: v for k, v in errors.items() if v > 1e-5}
        if bad:
            sys.exit(f"{name}: float32 and float64 disagree: {bad}")
        fd = finite_differences(model64, ad64, tokens, g64)
        if fd > 1e-5:
            sys.exit(f"{name}: autograd and finite differences disagree ({fd})")
        merge_gap = rel(m64, l64)
        if merge_gap > 1e-10:
            sys.exit(f"{name}: the merged model's logits differ from the adapter's ({merge_gap})")

        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        config = {
            "base_model_name_or_path": "../../torch-tiny",
            "bias": "none",
            "fan_in_fan_out": True,
            "inference_mode": True,
            "init_lora_weights": True,
            "lora_alpha": cfg["lora_alpha"],
            "lora_dropout": 0.0,
            "modules_to_save": None,
            "peft_type": "LORA",
            "r": cfg["r"],
            "target_modules": cfg["target_modules"],
            "task_type": "CAUSAL_LM",
        }
        with open(os.path.join(out, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        tensors = {}
        for n, (A, B) in adapters32.items():
            tensors[f"{PREFIX}{n}.lora_A.weight"] = A
            tensors[f"{PREFIX}{n}.lora_B.weight"] = B
        write_safetensors(os.path.join(out, "adapter_model.safetensors"), tensors)
        expected = {"logits": l64, "loss": loss64.reshape(1), "merged_logits": m64}
        expected.update({f"grad.{k}": v for k, v in g64.items()})
        write_safetensors(os.path.join(out, "expected.safetensors"), expected, dtype=torch.float32)
        with open(os.path.join(out, "case.json"), "w") as f:
            json.dump({"tokens": base_case["tokens"], "loss": loss64.item(), "f32_vs_f64": errors,
                       "finite_difference_worst": fd, "torch_version": torch.__version__}, f, indent=2)
            f.write("\n")
        print(f"{name}: loss {loss64.item():.6f}, {len(g64)} gradients, worst f32/f64 {max(errors.values()):.2e}, fd {fd:.2e}")


if __name__ == "__main__":
    main()
