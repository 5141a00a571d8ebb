#!/usr/bin/env python3
"""The benchmark workloads of `tweetsmith bench`, in PyTorch, for side-by-side ratios.

    /usr/bin/python3 scripts/reference/bench_torch.py WORKLOAD [--size gpt2] [--threads N]
        [--peer hf-style|fast] [--batch 1] [--block 1024] [--steps 3] [--bf16]
        [--int8] [--n 10] [--max-length 160]

WORKLOAD is `train` (forward, backward, clipping, AdamW per step) or `generate`
(n sequences sampled together with a KV cache, top-p 0.95). Prints one JSON line.

`train` has two peers, both the same model from the same weights (gpt2_torch_fast.py
`check` shows it): `--peer hf-style` (the default) is gpt2_torch.py's GPT2 as Hugging
Face writes it (Conv1D, the Python-op `gelu_new`) with a plain AdamW; `--peer fast` is
gpt2_torch_fast.py's, written for speed (nn.Linear, fused tanh GELU) with
AdamW(foreach=True). --bf16 trains under torch.autocast('cpu', bfloat16).

`generate` is written as a careful PyTorch user would for speed: inference mode, a
preallocated KV cache written in place, fused addmm/linear, and a linear-time top-p
cut instead of sorting the vocabulary every step (see top_p_weights); with --bf16
the weights are bfloat16 and the matmuls run on oneDNN's AVX512-BF16 kernels; with
--int8 the linear layers (the tied head too) are torch.ao.quantization.quantize_dynamic's
int8 ones (fbgemm; activations stay fp32), the peer of tweetsmith's q8_0 weights.
Each peer runs with tcmalloc preloaded when it is installed (see preload_tcmalloc;
--allocator system opts out), and says which allocator it ran with.
Debian's torch uses the reference BLAS unless a faster one is installed; run
scripts/reference/setup-torch.sh (as root) for OpenBLAS's OpenMP build, as the
figures in the issue were measured.
"""
import argparse
import ctypes.util
import json
import math
import os
import resource
import statistics
import sys
import time


def preload_tcmalloc():
    """Re-runs this script with tcmalloc preloaded, as PyTorch's CPU performance guides
    tell its users to (unless --allocator system, or tcmalloc is not installed: Debian's
    libtcmalloc-minimal4, which setup-torch.sh installs). glibc's malloc hands every
    tensor over 32 MiB back to the kernel when it is freed, so each training step faults
    ~2 GB of fresh pages in again: measured here, a GPT-2 124M bf16 step of the fast peer
    took 9-13 s with glibc and 2.8 s with tcmalloc. A peer slowed by that would flatter
    tweetsmith, whose buffers live for the whole run. -> the allocator in use."""
    if os.environ.get("TWEETSMITH_PEER_ALLOCATOR"):
        return os.environ["TWEETSMITH_PEER_ALLOCATOR"]
    argv = sys.argv
    system = any(a == "--allocator=system" or (a == "--allocator" and argv[i + 1:i + 2] == ["system"]) for i, a in enumerate(argv))
    lib = None if system else ctypes.util.find_library("tcmalloc_minimal")
    env = dict(os.environ, TWEETSMITH_PEER_ALLOCATOR="tcmalloc" if lib else "glibc")
    if lib:
        env["LD_PRELOAD"] = " ".join(filter(None, [lib, os.environ.get("LD_PRELOAD")]))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


if __name__ == "__main__":
    ALLOCATOR = preload_tcmalloc()

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"error": "PyTorch is not installed for " + sys.executable +
                      " (scripts/reference/setup-torch.sh installs Debian's python3-torch)"}))
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import GPT2, GPT2Config  # noqa: E402
from gpt2_torch_fast import FastGPT2, make_optimizer  # noqa: E402

SIZES = {
    "tiny": dict(n_layer=2, n_head=2, n_embd=64, n_positions=128),
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768, n_positions=1024),
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024, n_positions=1024),
}


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_model(size, peer="hf-style"):
    cfg = GPT2Config(vocab_size=50257, layer_norm_epsilon=1e-5, **SIZES[size])
    model = (FastGPT2 if peer == "fast" else GPT2)(cfg)
    model.init_weights_(seed=0)
    return model, cfg


def bench_train(a):
    model, cfg = make_model(a.size, a.peer)
    opt = make_optimizer(model.parameters(), fast=a.peer == "fast")
    block = min(a.block, cfg.n_positions)
    tokens = torch.tensor([[(i * 7919 + b * 104729) % cfg.vocab_size for i in range(block)] for b in range(a.batch)])
    times, losses = [], []
    for step in range(a.steps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = model.loss(tokens)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step > 0:
            times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    med = statistics.median(times)
    return {"workload": "train", "peer": a.peer, "size": a.size, "batch": a.batch, "block": block, "bf16": a.bf16,
            "stepSeconds": times, "medianSeconds": med, "tokensPerSecond": a.batch * block / med,
            "losses": losses, "peakRssMiB": peak_rss_mib()}


def _cut_bucket(mass, above, top_p):
    """mass [B, nb]: the mass per bucket, buckets in increasing probability; above [B]: the
    mass of the tokens above them all. -> the bucket the top-p cut lies in (the first,
    most likely first, where the running mass reaches top_p; a nonempty one) and the
    mass above that bucket."""
    nb = mass.shape[1]
    desc = mass.flip(-1)
    cum = desc.cumsum(-1) + above[:, None]
    j = (cum < top_p).sum(-1, keepdim=True)
    j = torch.minimum(j, nb - 1 - (mass > 0).int().argmax(-1, keepdim=True))
    return (nb - 1 - j).squeeze(1), (cum.gather(1, j) - desc.gather(1, j)).squeeze(1)


def top_p_weights(probs, top_p):
    """probs [B, V] -> the weights top-p sampling draws from: probs[b, i] for the tokens
    Hugging Face's TopPLogitsWarper keeps (the most likely ones, each while the mass of
    the tokens more likely than it is < top_p), 0 for the rest.

    The cut is found by a radix select on the probabilities' bits (non-negative floats
    order as their int32 patterns): a histogram of the mass over the 11 high bits finds
    the bucket the cut lies in, two more over that bucket's tokens (10 bits each) the
    exact value. That is linear time, where sorting the 50k nearly equal probabilities
    of an untrained model costs more than the rest of sampling together (tweetsmith's
    sampler does the same with a quickselect). The tokens tied at the cut value each
    get the kept fraction of their mass: the same distribution as keeping as many of
    them as the cut allows, chosen at random."""
    B = probs.shape[0]
    acc = torch.float64                                   # the masses, summed without rounding trouble
    bits = probs.view(torch.int32)
    key = (bits >> 20).long()
    mass = torch.zeros(B, 2048, dtype=acc).scatter_add_(1, key, probs.to(acc))
    c, above = _cut_bucket(mass, torch.zeros(B, dtype=acc), top_p)
    cut = c << 20                                         # the cut's bits, high ones first
    rows, cols = (key == c[:, None]).nonzero(as_tuple=True)   # the tokens in the cut's bucket
    pb, pp = bits[rows, cols], probs[rows, cols].to(acc)
    for shift in (10, 0):
        k = rows * 1024 + ((pb >> shift) & 1023).long()
        mass = torch.zeros(B * 1024, dtype=acc).index_add_(0, k, pp).view(B, 1024)
        c, above = _cut_bucket(mass, above, top_p)
        cut |= c << shift
        sel = (pb >> shift) == (cut >> shift)[rows]
        rows, pb, pp = rows[sel], pb[sel], pp[sel]
    cut = cut.int().view(probs.dtype)                    # the least likely kept probability
    n_eq = torch.bincount(rows, minlength=B)              # tokens at exactly that value
    m = torch.ceil((top_p - above) / cut.to(acc)).clamp_(min=1).minimum(n_eq)   # how many of them are kept
    r = (m / n_eq).to(probs.dtype)
    # weight 1 above the cut, m / n_eq at it, 0 below: clamp(sign(p - cut) + r, 0, 1), branch-free
    return (probs - cut[:, None]).sign_().add_(r[:, None]).clamp_(0, 1).mul_(probs)


def top_p_sample(logits, top_p, gen):
    """One token per row, temperature 1, top-p; an inverse-CDF draw, one uniform per row."""
    w = top_p_weights(F.softmax(logits, dim=-1), top_p)
    cum = w.cumsum(dim=-1)
    total = cum[:, -1:]
    u = torch.minimum(torch.rand(total.shape, generator=gen) * total, torch.nextafter(total, torch.zeros(())))
    return torch.searchsorted(cum, u, right=True)        # the first token whose cumulative weight passes u


def addmm(w, b):
    """Conv1D's y = x @ W + b as one fused kernel, W [in, out] as the hf-style model holds it."""
    return lambda x: torch.addmm(b, x, w)


def int8_linears(cfg):
    """The fast model's linear layers, the tied head among them, as quantize_dynamic's int8
    ones: weights int8 per tensor, activations quantized on the fly, fp32 in and out.
    -> (the model with its embeddings and LayerNorms, the quantized head)."""
    model = FastGPT2(cfg).init_weights_(seed=0).eval()
    head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
    head.weight = model.wte.weight                       # tied, as in GPT-2
    model.add_module("head", head)
    torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)
    return model, model.head


def bench_generate(a):
    cfg = GPT2Config(vocab_size=50257, layer_norm_epsilon=1e-5, **SIZES[a.size])
    a.max_length = min(a.max_length, cfg.n_positions)
    gen = torch.Generator().manual_seed(1)
    prompt = torch.tensor([[50256 - i for i in range(4)]] * a.n)
    B, C, H = a.n, cfg.n_embd, cfg.n_head
    hs = C // H
    dtype = torch.bfloat16 if a.bf16 else torch.float32
    if a.int8:
        model, head = int8_linears(cfg)
        layers = [dict(ln_1=b.ln_1, ln_2=b.ln_2, attn=b.attn.c_attn, proj=b.attn.c_proj, fc=b.mlp.c_fc, fc2=b.mlp.c_proj)
                  for b in model.h]
    else:
        model, cfg = make_model(a.size)
        model = model.eval().to(dtype)
        # weights as the kernels want them: Conv1D's [in, out] for addmm, the tied head [V, C] for linear
        layers = [dict(ln_1=b.ln_1, ln_2=b.ln_2,
                       attn=addmm(b.attn.c_attn.weight.detach(), b.attn.c_attn.bias.detach()),
                       proj=addmm(b.attn.c_proj.weight.detach(), b.attn.c_proj.bias.detach()),
                       fc=addmm(b.mlp.c_fc.weight.detach(), b.mlp.c_fc.bias.detach()),
                       fc2=addmm(b.mlp.c_proj.weight.detach(), b.mlp.c_proj.bias.detach())) for b in model.h]
        head_w = model.wte.weight.detach()
        head = lambda x: F.linear(x, head_w)              # noqa: E731
    wte, wpe = model.wte.weight.detach(), model.wpe.weight.detach()
    L = a.max_length
    # the KV cache, preallocated [B, H, L, hs] per layer; step t writes position t
    k_cache = [torch.empty(B, H, L, hs, dtype=dtype) for _ in range(cfg.n_layer)]
    v_cache = [torch.empty(B, H, L, hs, dtype=dtype) for _ in range(cfg.n_layer)]
    scale = 1.0 / math.sqrt(hs)

    def step(tokens, start):
        T = tokens.shape[1]
        end = start + T
        x = (wte[tokens] + wpe[start:end]).view(B * T, C)
        elementwise = T == 1 and dtype == torch.float32
        mask = None
        if T > 1:
            mask = torch.ones(T, end, dtype=torch.bool).tril(start).logical_not_()
        for i, l in enumerate(layers):
            h = l["ln_1"](x)
            qkv = l["attn"](h).view(B, T, 3, H, hs).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            k_cache[i][:, :, start:end] = k
            v_cache[i][:, :, start:end] = v
            k_all, v_all = k_cache[i][:, :, :end], v_cache[i][:, :, :end]
            if elementwise:
                # one query per sequence, fp32: q·k and the weighted sum of v as broadcasts and
                # sums beat OpenBLAS's B·H tiny GEMMs (in bf16 oneDNN's batched matmul wins)
                att = (k_all * q).sum(-1).mul_(scale)                               # [B, H, end]
                att = torch.softmax(att, dim=-1)
                y = (att.unsqueeze(-1) * v_all).sum(-2).view(B * T, C)             # [B, H, hs]
            else:
                att = torch.matmul(q, k_all.transpose(-2, -1)).float().mul_(scale)   # [B, H, T, end]
                if mask is not None:
                    att.masked_fill_(mask, torch.finfo(att.dtype).min)
                att = torch.softmax(att, dim=-1).to(dtype)
                y = torch.matmul(att, v_all).transpose(1, 2).reshape(B * T, C)
            x = l["proj"](y).add_(x)
            h = l["fc"](l["ln_2"](x))
            x = l["fc2"](F.gelu(h, approximate="tanh")).add_(x)
        last = x.view(B, T, C)[:, -1]
        return head(model.ln_f(last)).float()

    with torch.inference_mode():
        t0 = time.perf_counter()
        logits = step(prompt, 0)
        length, produced = prompt.shape[1], 0
        while length < a.max_length:
            nxt = top_p_sample(logits, 0.95, gen)
            produced += a.n
            length += 1
            if length >= a.max_length:
                break
            logits = step(nxt, length - 1)
        seconds = time.perf_counter() - t0
    return {"workload": "generate", "size": a.size, "n": a.n, "maxLength": a.max_length, "bf16": a.bf16, "int8": a.int8,
            "newTokens": produced, "seconds": seconds, "tokensPerSecond": produced / seconds,
            "peakRssMiB": peak_rss_mib()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["train", "generate"])
    p.add_argument("--size", default="gpt2", choices=sorted(SIZES))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--block", type=int, default=1024)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--peer", default="hf-style", choices=["hf-style", "fast"], help="train: which PyTorch model and optimizer")
    p.add_argument("--bf16", action="store_true", help="train: bf16 autocast; generate: bf16 weights")
    p.add_argument("--int8", action="store_true", help="generate: quantize_dynamic int8 linear layers (fp32 activations)")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--max-length", type=int, default=160)
    p.add_argument("--allocator", default="tcmalloc", choices=["tcmalloc", "system"],
                   help="tcmalloc (preloaded when installed, as PyTorch's CPU tuning guides advise) or glibc's malloc")
    a = p.parse_args()
    if a.int8 and (a.bf16 or a.workload != "generate"):
        p.error("--int8 is a generate option, and excludes --bf16 (dynamic quantization takes fp32 activations)")
    torch.set_num_threads(a.threads)
    result = bench_train(a) if a.workload == "train" else bench_generate(a)
    result["torch"] = torch.__version__
    result["threads"] = a.threads
    result["allocator"] = ALLOCATOR
    result["blas"] = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
