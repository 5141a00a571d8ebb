#!/usr/bin/env python3
"""Write test/fixtures/torch-tiny/: a tiny GPT-2 and what PyTorch says about it.

    /usr/bin/python3 scripts/reference/make_fixtures.py [--out test/fixtures/torch-tiny]

Deterministic (fixed seeds, one thread). Everything is computed twice, in
float32 (as the engine does) and in float64 from the same float32 weights; the
run fails unless the two agree, and the float64 results, cast to float32, are
what is stored. It also checks autograd against finite differences (float64)
and that model.safetensors reads back bit-identical. See README.md next to
this file for what each file holds.
"""
import argparse
import copy
import json
import math
import os
import sys

try:
    import torch
except ImportError as e:   # e.g. a pyenv `python3` first on PATH
    sys.exit(f"{e}: run this with a Python that has torch and numpy, e.g. Debian's "
             f"(apt-get install python3-torch python3-numpy; /usr/bin/python3 {sys.argv[0]} ...)")
import torch.nn.functional as F

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt2_torch  # noqa: E402
from gpt2_torch import (GPT2, GPT2Config, is_decayed, read_gpt2_safetensors,  # noqa: E402
                        read_safetensors, write_safetensors, load_model_dir)

INIT_SEED = 1234        # HF-style init
PERTURB_SEED = 5678     # the perturbation of LayerNorm params and biases
DATA_SEED = 42          # tokens and batch
PERTURB_STD = 0.05
INPUT_PROJ_SCALE = 5.0  # c_attn.weight and mlp.c_fc.weight: std 0.02 -> 0.1

HF_CONFIG = {
    "activation_function": "gelu_new",
    "architectures": ["GPT2LMHeadModel"],
    "attn_pdrop": 0.1,
    "bos_token_id": 100,
    "embd_pdrop": 0.1,
    "eos_token_id": 100,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05,
    "model_type": "gpt2",
    "n_ctx": 24,
    "n_embd": 36,
    "n_head": 3,
    "n_layer": 2,
    "n_positions": 24,
    "resid_pdrop": 0.1,
    "summary_activation": None,
    "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "vocab_size": 101,
}

ADAMW = {"lrs": [1e-2, 5e-3, 2e-3], "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}
F32_VS_F64_TOL = 1e-5   # max |f32 - f64| / max |f64|, per tensor (logits, loss, grads, step losses/norms)
STEP3_ATOL = 1e-4       # max |f32 - f64| for the weights after 3 AdamW steps (see below)
KBIAS_STEP3_ATOL = 1e-3  # ... and for the key slice of c_attn.bias, whose gradient is pure rounding noise


def rel_err(a, b):
    """max |a - b| / max |b| over a tensor (b is the reference)."""
    a, b = a.double(), b.double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def make_model(cfg):
    """HF-style init, then made less trivial, all seeded:
    - c_attn.weight and mlp.c_fc.weight scaled by INPUT_PROJ_SCALE (std 0.1):
      with std 0.02 the attention scores and GELU inputs of a 36-wide model
      are ~0.05, where softmax is nearly uniform and GELU nearly linear, so a
      wrong attention scale or the erf GELU would hardly show (see
      sensitivity_check);
    - every LayerNorm weight and bias and every linear bias + N(0, 0.05), so
      that none is exactly 1 or 0 and every term of every gradient is used."""
    model = GPT2(cfg).init_weights_(seed=INIT_SEED)
    g = torch.Generator().manual_seed(PERTURB_SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("attn.c_attn.weight") or name.endswith("mlp.c_fc.weight"):
                p.mul_(INPUT_PROJ_SCALE)
            if not is_decayed(name):   # biases and LayerNorm weights/biases
                p.add_(torch.randn(p.shape, generator=g) * PERTURB_STD)
    return model


def loss_and_grads(model, tokens):
    model.zero_grad(set_to_none=True)
    loss = model.loss(tokens)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return loss.detach(), grads


def train_adamw(model, batch, max_grad_norm, adamw):
    """3 AdamW steps exactly as the fixture describes. Returns (step losses,
    pre-clip grad norms); the model ends up holding the updated weights."""
    decay = [p for n, p in model.named_parameters() if is_decayed(n)]
    no_decay = [p for n, p in model.named_parameters() if not is_decayed(n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": adamw["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=adamw["lrs"][0], betas=(adamw["beta1"], adamw["beta2"]), eps=adamw["eps"])
    losses, norms = [], []
    for lr in adamw["lrs"]:
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = model.loss(batch)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        norms.append(norm.item())
    return losses, norms


def finite_difference_check(model64, tokens, grads64, n_random=2, h=1e-4):
    """Central differences of the float64 loss vs autograd, for the largest
    gradient entry and a few random ones of every parameter kind."""
    kinds = {
        "wte": "wte.weight", "wpe": "wpe.weight",
        "ln_1.weight": "h.0.ln_1.weight", "ln_1.bias": "h.1.ln_1.bias",
        "c_attn.weight": "h.0.attn.c_attn.weight", "c_attn.bias": "h.1.attn.c_attn.bias",
        "attn.c_proj.weight": "h.1.attn.c_proj.weight", "attn.c_proj.bias": "h.0.attn.c_proj.bias",
        "ln_2.weight": "h.1.ln_2.weight", "ln_2.bias": "h.0.ln_2.bias",
        "c_fc.weight": "h.0.mlp.c_fc.weight", "c_fc.bias": "h.1.mlp.c_fc.bias",
        "mlp.c_proj.weight": "h.1.mlp.c_proj.weight", "mlp.c_proj.bias": "h.0.mlp.c_proj.bias",
        "ln_f.weight": "ln_f.weight", "ln_f.bias": "ln_f.bias",
    }
    params = dict(model64.named_parameters())
    g = torch.Generator().manual_seed(7)
    worst = 0.0
    rows = []
    with torch.no_grad():
        for kind, name in kinds.items():
            p = params[name]
            flat = p.view(-1)
            ad = grads64[name].view(-1)
            idx = [int(ad.abs().argmax())] + torch.randint(0, flat.numel(), (n_random,), generator=g).tolist()
            kind_worst = 0.0
            for i in idx:
                old = flat[i].item()
                flat[i] = old + h
                lp = model64.loss(tokens).item()
                flat[i] = old - h
                lm = model64.loss(tokens).item()
                flat[i] = old
                fd = (lp - lm) / (2 * h)
                a = ad[i].item()
                # relative error, with a floor so that entries whose gradient is ~0 are judged absolutely
                err = abs(fd - a) / max(abs(fd), abs(a), 1e-4)
                kind_worst = max(kind_worst, err)
            rows.append((kind, name, kind_worst))
            worst = max(worst, kind_worst)
    return worst, rows


def sensitivity_check(model64, tokens):
    """How much plausible engine bugs would move logits and gradients (float64,
    max |change| / max |value| per tensor, worst tensor). The engine's
    comparison tolerances must sit well below these numbers."""
    base_logits = model64(tokens).detach()
    _, base_grads = loss_and_grads(model64, tokens)

    def attention_with(scale_pow, masked):
        def attn(q, k, v):
            T, hs = q.shape[-2], q.shape[-1]
            att = (q @ k.transpose(-2, -1)) / hs ** scale_pow
            if masked:
                att = att.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
            return F.softmax(att, dim=-1) @ v
        return attn

    def set_eps(eps):
        for m in model64.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.eps = eps

    mutations = {
        "attention scale 1/head_size": ("causal_attention", attention_with(1.0, True)),
        "no attention scale": ("causal_attention", attention_with(0.0, True)),
        "no causal mask": ("causal_attention", attention_with(0.5, False)),
        "erf GELU instead of tanh": ("gelu_new", lambda x: F.gelu(x)),
        "LayerNorm eps 1e-12": ("eps", 1e-12),
        "LayerNorm eps 1e-6": ("eps", 1e-6),
    }
    result = {}
    for what, (attr, repl) in mutations.items():
        if attr == "eps":
            set_eps(repl)
        else:
            saved = getattr(gpt2_torch, attr)
            setattr(gpt2_torch, attr, repl)
        try:
            logits = model64(tokens).detach()
            _, grads = loss_and_grads(model64, tokens)
        finally:
            if attr == "eps":
                set_eps(model64.cfg.layer_norm_epsilon)
            else:
                setattr(gpt2_torch, attr, saved)
        result[what] = {"logits": rel_err(logits, base_logits),
                        "grads": max(rel_err(grads[n], base_grads[n]) for n in grads)}
    # the mutations really are undone
    assert torch.equal(model64(tokens).detach(), base_logits)
    return result


def dump_json(obj, indent=0):
    """JSON with one key (or list element) per line, lists of numbers on one line."""
    pad = " " * (indent + 1)
    end = "\n" + " " * indent
    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(obj, dict):
        return "{\n" + ",\n".join(f"{pad}{json.dumps(k)}: {dump_json(v, indent + 1)}"
                                   for k, v in obj.items()) + end + "}"
    if isinstance(obj, list) and obj and not all(is_num(v) for v in obj):
        return "[\n" + ",\n".join(pad + dump_json(v, indent + 1) for v in obj) + end + "]"
    return json.dumps(obj)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--out", default=os.path.join(repo, "test", "fixtures", "torch-tiny"))
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    cfg = GPT2Config.from_hf_dict(HF_CONFIG)
    model32 = make_model(cfg)
    names = [n for n, _ in model32.named_parameters()]

    # -- config.json, model.safetensors, and the read-back check ----------------
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(HF_CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")
    model_path = os.path.join(out, "model.safetensors")
    write_safetensors(model_path, model32.state(), metadata={"format": "pt"}, dtype=torch.float32)
    back = read_gpt2_safetensors(model_path)
    assert list(back) == names, "names/order changed on read-back"
    for n, t in model32.state().items():
        assert back[n].dtype == torch.float32 and torch.equal(back[n], t), f"{n} not bit-identical on read-back"
    reloaded = load_model_dir(out)
    for n, t in model32.state().items():
        assert torch.equal(reloaded.state()[n], t), f"{n} differs after load_model_dir"
    # the reader's other paths: `transformer.` prefix, skipped buffers, F16, BF16
    tmp = os.path.join(out, ".roundtrip.tmp.safetensors")
    try:
        st = model32.state()
        hub = {"transformer." + n: t for n, t in st.items()}
        hub["transformer.h.0.attn.bias"] = torch.ones(1, 1, 24, 24)
        hub["lm_head.weight"] = st["wte.weight"]
        for dt in (torch.float16, torch.bfloat16):
            write_safetensors(tmp, hub, dtype=dt)
            got = read_gpt2_safetensors(tmp)
            assert list(got) == names
            for n, t in st.items():
                assert got[n].dtype == dt and torch.equal(got[n], t.to(dt)), f"{n} {dt} round trip"
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"model.safetensors reads back bit-identical ({len(names)} tensors; F16/BF16/prefix paths ok)")

    model64 = copy.deepcopy(model32).double()   # the same float32 weights, exactly

    # -- tokens and batch ----------------------------------------------------------
    g = torch.Generator().manual_seed(DATA_SEED)
    tokens = torch.randint(0, cfg.vocab_size, (20,), generator=g)
    tokens[11] = 100                       # <|endoftext|> in the middle of the sequence
    batch = torch.randint(0, cfg.vocab_size, (2, 16), generator=g)
    batch[1, 0] = 100                      # ... and at the start of the second sequence
    assert int(tokens.max()) <= 100 and int(batch.max()) <= 100

    # -- logits, loss, grads: f32 and f64 ------------------------------------------
    with torch.no_grad():
        logits32 = model32(tokens)
        logits64 = model64(tokens)
    loss32, grads32 = loss_and_grads(model32, tokens)
    loss64, grads64 = loss_and_grads(model64, tokens)

    agreement = {"logits": rel_err(logits32, logits64), "loss": rel_err(loss32, loss64)}
    for n in names:
        agreement["grad." + n] = rel_err(grads32[n], grads64[n])

    # -- finite differences (f64) ------------------------------------------------
    fd_worst, fd_rows = finite_difference_check(model64, tokens, grads64)
    print("finite differences vs autograd (float64, max relative error per kind):")
    for kind, name, err in fd_rows:
        print(f"  {kind:20s} {name:26s} {err:.2e}")
    print(f"  worst: {fd_worst:.2e}")
    assert fd_worst < 1e-6, "autograd disagrees with finite differences"

    # -- how far plausible bugs would move the results -----------------------------
    sensitivity = sensitivity_check(model64, tokens)
    print("sensitivity (float64; max |change| / max |value|, worst tensor):")
    for what, d in sensitivity.items():
        print(f"  {what:28s} logits {d['logits']:.1e}  grads {d['grads']:.1e}")

    # -- max_grad_norm so that clipping is active at every step -------------------
    probe = copy.deepcopy(model64)
    _, free_norms = train_adamw(probe, batch, math.inf, ADAMW)
    mgn = float(f"{0.5 * min(free_norms):.2g}")    # 2 significant digits
    train32, train64 = copy.deepcopy(model32), copy.deepcopy(model64)
    losses64, norms64 = train_adamw(train64, batch, mgn, ADAMW)
    losses32, norms32 = train_adamw(train32, batch, mgn, ADAMW)
    assert all(nrm > mgn * 1.5 for nrm in norms64), f"clipping not clearly active: {norms64} vs {mgn}"
    for i in range(3):
        agreement[f"step_losses[{i}]"] = abs(losses32[i] - losses64[i]) / abs(losses64[i])
        agreement[f"step_grad_norms[{i}]"] = abs(norms32[i] - norms64[i]) / abs(norms64[i])
    step32, step64 = train32.state(), train64.state()
    # step3 gets an absolute gate, not the 1e-5 relative one. AdamW normalises
    # each entry by its own gradient history, so an entry whose gradient is
    # tiny (|g| ~ 1e-7, where float32 rounding of a few 1e-9 is a ~1% error)
    # moves by an amount that depends on that rounding: step 1's update is
    # lr * g / (|g| + eps), whose slope in g is lr * eps / (|g| + eps)^2. A few
    # dozen entries differ by up to a few 1e-5; nearly all agree to ~1e-7.
    # The key part of c_attn.bias, [C:2C], has a gradient that is exactly 0
    # in exact arithmetic (it adds the same q.b_k to every score of a softmax
    # row). In float32 it is rounding noise, which AdamW turns into updates of
    # about lr * noise / (noise + eps): no reference can predict them, so that
    # slice is measured and gated apart, loosely.
    C = cfg.n_embd

    def split_kbias(n, t):
        if n.endswith("attn.c_attn.bias"):
            return torch.cat([t[:C], t[2 * C:]]), t[C:2 * C]
        return t, None

    step3_abs, kbias = {}, {}
    step3_n_over = 0
    for n in names:
        d32, k32 = split_kbias(n, step32[n].double())
        d64, k64 = split_kbias(n, step64[n])
        diff = (d32 - d64).abs()
        step3_abs["step3." + n + ("[q,v]" if k32 is not None else "")] = diff.max().item()
        step3_n_over += int((diff > 1e-6).sum())
        if k32 is not None:
            kbias[n] = {"grad_max_abs_f64": split_kbias(n, grads64[n])[1].abs().max().item(),
                        "grad_max_abs_f32": split_kbias(n, grads32[n])[1].abs().max().item(),
                        "step3_max_abs_diff_f32_vs_f64": (k32 - k64).abs().max().item()}

    worst_key = max(agreement, key=agreement.get)
    worst_step3 = max(step3_abs, key=step3_abs.get)
    print(f"float32 vs float64 (max |f32 - f64| / max |f64| per tensor): worst {agreement[worst_key]:.2e} "
          f"({worst_key}); logits {agreement['logits']:.2e}, loss {agreement['loss']:.2e}, "
          f"grads {max(v for k, v in agreement.items() if k.startswith('grad.')):.2e}, "
          f"step losses/norms {max(v for k, v in agreement.items() if k.startswith('step_')):.2e}")
    print(f"  step3 weights: max |f32 - f64| {step3_abs[worst_step3]:.2e} ({worst_step3}); "
          f"{step3_n_over} of {sum(t.numel() for t in step64.values())} entries differ by > 1e-6")
    for n, d in kbias.items():
        print(f"  {n}[C:2C] (key): |grad| f64 {d['grad_max_abs_f64']:.1e}, f32 {d['grad_max_abs_f32']:.1e} "
              f"(0 in exact arithmetic); step3 |f32 - f64| {d['step3_max_abs_diff_f32_vs_f64']:.1e}")
    bad = {k: v for k, v in agreement.items() if v > F32_VS_F64_TOL}
    assert not bad, f"float32 and float64 disagree beyond {F32_VS_F64_TOL}: {bad}"
    assert step3_abs[worst_step3] < STEP3_ATOL, f"step3 f32 vs f64 beyond {STEP3_ATOL}: {step3_abs}"
    assert all(d["step3_max_abs_diff_f32_vs_f64"] < KBIAS_STEP3_ATOL for d in kbias.values()), kbias

    # -- expected.safetensors (float64 results, stored F32) -------------------------
    expected = {"logits": logits64, "loss": loss64.reshape(1)}
    for n in names:
        expected["grad." + n] = grads64[n]
    for n in names:
        expected["step3." + n] = step64[n]
        # PyTorch's own float32 run, so a test can hold an engine to "as close to the
        # float64 truth as PyTorch's float32 is" where AdamW is ill-conditioned
        expected["step3_f32." + n] = step32[n]
    expected_path = os.path.join(out, "expected.safetensors")
    write_safetensors(expected_path, expected, metadata={"format": "pt"}, dtype=torch.float32)
    back, _ = read_safetensors(expected_path)
    for n, t in expected.items():
        assert torch.equal(back[n], t.float()), n

    case = {
        "tokens": tokens.tolist(),
        "batch": batch.tolist(),
        "adamw": dict(ADAMW, max_grad_norm=mgn),
        "decayed": [n for n in names if is_decayed(n)],
        "not_decayed": [n for n in names if not is_decayed(n)],
        "loss": loss64.item(),
        "step_losses": losses64,
        "step_grad_norms": norms64,
        "max_abs": {n: t.abs().max().item() for n, t in expected.items()},
        "f32_vs_f64": {"relative": agreement, "step3_abs": step3_abs, "step3_entries_over_1e-6": step3_n_over},
        "kbias_grad": kbias,
        "sensitivity": sensitivity,
        "seeds": {"init": INIT_SEED, "perturb": PERTURB_SEED, "data": DATA_SEED},
        "torch_version": torch.__version__,
    }
    with open(os.path.join(out, "case.json"), "w") as f:
        f.write(dump_json(case) + "\n")

    # -- summary ---------------------------------------------------------------------
    total = 0
    for fn in ("config.json", "model.safetensors", "case.json", "expected.safetensors"):
        size = os.path.getsize(os.path.join(out, fn))
        total += size
        print(f"  {fn:22s} {size:8d} bytes")
    print(f"  {'total':22s} {total:8d} bytes")
    print(f"params {sum(p.numel() for p in model32.parameters())}, loss on tokens {loss64.item():.6f}")
    print(f"unclipped grad norms {[round(x, 5) for x in free_norms]} -> max_grad_norm {mgn}")
    print(f"step losses {[round(x, 6) for x in losses64]}, grad norms {[round(x, 6) for x in norms64]}")


if __name__ == "__main__":
    main()
