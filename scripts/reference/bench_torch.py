#!/usr/bin/env python3
"""The benchmark workloads of `tweetsmith bench`, in PyTorch, for side-by-side ratios.

    /usr/bin/python3 scripts/reference/bench_torch.py WORKLOAD [--size gpt2] [--threads N]
        [--batch 1] [--block 1024] [--steps 3] [--bf16] [--n 10] [--max-length 160]

WORKLOAD is `train` (forward, backward, clipping, AdamW per step) or `generate`
(n sequences sampled together with a KV cache, top-p 0.95). Prints one JSON line.
Debian's torch uses the reference BLAS unless a faster one is installed; run
scripts/reference/setup-torch.sh (as root) for OpenBLAS's OpenMP build, as the
figures in the issue were measured.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"error": "PyTorch is not installed for " + sys.executable +
                      " (scripts/reference/setup-torch.sh installs Debian's python3-torch)"}))
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import GPT2, GPT2Config  # noqa: E402

SIZES = {
    "tiny": dict(n_layer=2, n_head=2, n_embd=64, n_positions=128),
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768, n_positions=1024),
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024, n_positions=1024),
}


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_model(size):
    cfg = GPT2Config(vocab_size=50257, layer_norm_epsilon=1e-5, **SIZES[size])
    model = GPT2(cfg)
    model.init_weights_(seed=0)
    return model, cfg


def bench_train(a):
    model, cfg = make_model(a.size)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
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
    return {"workload": "train", "size": a.size, "batch": a.batch, "block": block, "bf16": a.bf16,
            "stepSeconds": times, "medianSeconds": med, "tokensPerSecond": a.batch * block / med,
            "losses": losses, "peakRssMiB": peak_rss_mib()}


@torch.no_grad()
def bench_generate(a):
    model, cfg = make_model(a.size)
    model.eval()
    a.max_length = min(a.max_length, cfg.n_positions)
    gen = torch.Generator().manual_seed(1)
    prompt = torch.tensor([[50256 - i for i in range(4)]] * a.n)
    C, H = cfg.n_embd, cfg.n_head
    hs = C // H
    dtype = torch.bfloat16 if a.bf16 else torch.float32
    if a.bf16:
        model = model.to(torch.bfloat16)
    caches = [None] * cfg.n_layer

    def step(tokens, start):
        B, T = tokens.shape
        x = model.wte(tokens) + model.wpe(torch.arange(start, start + T))[None]
        for i, block in enumerate(model.h):
            h = block.ln_1(x)
            q, k, v = block.attn.c_attn(h).split(C, dim=2)
            q, k, v = (t.view(B, T, H, hs).transpose(1, 2) for t in (q, k, v))
            if caches[i] is not None:
                k = torch.cat([caches[i][0], k], dim=2)
                v = torch.cat([caches[i][1], v], dim=2)
            caches[i] = (k, v)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
            if T > 1:
                mask = torch.ones(T, k.shape[2], dtype=torch.bool).tril(k.shape[2] - T)
                att = att.masked_fill(~mask, torch.finfo(att.dtype).min)
            y = (F.softmax(att.float(), dim=-1).to(dtype) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + block.attn.c_proj(y)
            x = x + block.mlp(block.ln_2(x))
        return (model.ln_f(x[:, -1]) @ model.wte.weight.t()).float()

    t0 = time.perf_counter()
    logits = step(prompt, 0)
    length, produced = prompt.shape[1], 0
    while length < a.max_length:
        probs = F.softmax(logits, dim=-1)
        sorted_p, idx = probs.sort(dim=-1, descending=True)
        keep = (sorted_p.cumsum(-1) - sorted_p) < 0.95
        sorted_p = sorted_p * keep
        choice = torch.multinomial(sorted_p, 1, generator=gen)
        nxt = idx.gather(-1, choice)
        produced += a.n
        length += 1
        if length >= a.max_length:
            break
        logits = step(nxt, length - 1)
    seconds = time.perf_counter() - t0
    return {"workload": "generate", "size": a.size, "n": a.n, "maxLength": a.max_length, "bf16": a.bf16,
            "seconds": seconds, "tokensPerSecond": produced / seconds, "peakRssMiB": peak_rss_mib()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["train", "generate"])
    p.add_argument("--size", default="gpt2", choices=sorted(SIZES))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--block", type=int, default=1024)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--max-length", type=int, default=160)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    result = bench_train(a) if a.workload == "train" else bench_generate(a)
    result["torch"] = torch.__version__
    result["threads"] = a.threads
    result["blas"] = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
