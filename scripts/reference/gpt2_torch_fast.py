#!/usr/bin/env python3
"""GPT-2 written the way a PyTorch user writes it for speed: the "fast" benchmark peer.

The same model as gpt2_torch.py's GPT2 (the "hf-style" peer, Hugging Face's
numerics, Conv1D weights and the Python-op `gelu_new`), built from the fast
pieces PyTorch offers on the CPU:

- `nn.Linear` (weights [out, in], one fused addmm kernel per layer);
- `F.gelu(approximate='tanh')`, one fused kernel instead of `gelu_new`'s five
  elementwise ops and their saved tensors (the same function: tanh GELU);
- a causal mask made once, not per layer and step;
- the tied head as `F.linear(x, wte.weight)`.

`bench_torch.py --peer fast` trains it under `torch.autocast('cpu', bfloat16)`
(for bf16) with `clip_grad_norm_` and `AdamW(foreach=True)`; fp32 is the same
minus autocast. For q8_0 sampling, `quantize_dynamic` turns its linear layers
(the tied head included, as tweetsmith's q8_0 converts the head too) into
int8 ones.

`init_weights_(seed)` draws exactly the hf-style peer's weights (the same
generator, the same order, each matrix drawn in Conv1D's [in, out] layout and
stored transposed), so both peers train the same model from the same start:

    /usr/bin/python3 scripts/reference/gpt2_torch_fast.py check [--size tiny|gpt2]

compares the two: weights, the loss in fp32 and under bf16 autocast, and the
loss after a few identical AdamW steps.
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import GPT2Config  # noqa: E402


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x, mask):
        B, T, C = x.shape
        hs = C // self.n_head
        # [B, T, 3C] -> 3 x [B, n_head, T, hs] in one view + permute, no copies
        q, k, v = self.c_attn(x).view(B, T, 3, self.n_head, hs).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-2, -1)).mul_(1.0 / math.sqrt(hs))
        att = att.masked_fill_(mask[:T, :T], torch.finfo(att.dtype).min)
        y = torch.matmul(F.softmax(att, dim=-1).to(v.dtype), v)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, cfg.n_inner)
        self.c_proj = nn.Linear(cfg.n_inner, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class FastGPT2(nn.Module):
    """Parameter names as gpt2_torch.GPT2's (so as the hub file's); linear weights [out, in]."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        # True above the diagonal: the future positions attention must not see
        self.register_buffer("mask", torch.ones(cfg.n_positions, cfg.n_positions, dtype=torch.bool).triu(1), persistent=False)

    def forward(self, tokens):
        """tokens [B, T] -> logits [B, T, V]"""
        T = tokens.shape[1]
        x = self.wte(tokens) + self.wpe.weight[:T]
        for block in self.h:
            x = block(x, self.mask)
        return F.linear(self.ln_f(x), self.wte.weight)

    def loss(self, tokens):
        """Mean next-token cross-entropy over all B*(T-1) positions, as GPT2.loss."""
        logits = self(tokens)[:, :-1]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))

    def init_weights_(self, seed=None):
        """The hf-style peer's init (GPT2.init_weights_), value for value: matrices and
        embeddings ~ N(0, 0.02), the residual projections N(0, 0.02/sqrt(2 n_layer)),
        drawn from torch's global generator in the same order; each linear weight drawn
        as the [in, out] matrix the hf-style peer holds, then stored transposed."""
        if seed is not None:
            torch.manual_seed(seed)
        std = self.cfg.initializer_range
        std_resid = std / math.sqrt(2 * self.cfg.n_layer)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith(".bias"):
                    p.zero_()
                elif ".ln_" in name or name.startswith("ln_"):
                    p.fill_(1.0)
                elif p.dim() == 2 and name.startswith("h."):
                    drawn = torch.empty(p.shape[1], p.shape[0]).normal_(0.0, std_resid if name.endswith("c_proj.weight") else std)
                    p.copy_(drawn.t())
                else:
                    p.normal_(0.0, std)
        return self

    def conv1d_state(self):
        """{name: tensor} in the hf-style peer's layout (linear weights [in, out])."""
        return {n: (p.detach().t() if p.dim() == 2 and n.startswith("h.") else p.detach()) for n, p in self.named_parameters()}


def make_optimizer(params, fast):
    """The benchmarks' AdamW: lr 1e-4, PyTorch's defaults otherwise, no weight decay;
    the fast peer's updates every tensor in one multi-tensor (foreach) kernel per op."""
    return torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=fast)


def check(size, steps, block):
    """The fast peer computes the hf-style peer's model: same weights, same loss (fp32 to
    float rounding, bf16 autocast to bf16 rounding), same losses over AdamW steps."""
    from bench_torch import SIZES  # noqa: E402  (one list of shapes)
    from gpt2_torch import GPT2  # noqa: E402
    cfg = GPT2Config(vocab_size=50257, layer_norm_epsilon=1e-5, **SIZES[size])
    block = min(block, cfg.n_positions)
    tokens = torch.tensor([[(i * 7919) % cfg.vocab_size for i in range(block)]])
    ref = GPT2(cfg).init_weights_(seed=0)
    fast = FastGPT2(cfg).init_weights_(seed=0)
    fs = fast.conv1d_state()
    worst = max((fs[n] - p).abs().max().item() for n, p in ref.state().items())
    print(f"{size}, 1x{block} tokens: largest weight difference after init: {worst}")
    ok = worst == 0
    for bf16, tol in ((False, 1e-4), (True, 2e-2)):
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            a, b = ref.loss(tokens).item(), fast.loss(tokens).item()
        print(f"  loss {'bf16 autocast' if bf16 else 'fp32'}: hf-style {a:.6f}, fast {b:.6f}, difference {abs(a - b):.2e} (tolerance {tol})")
        ok &= abs(a - b) <= tol
    # training: the same clipped AdamW steps from the same start keep the losses together
    opt_r, opt_f = make_optimizer(ref.parameters(), False), make_optimizer(fast.parameters(), True)
    for s in range(steps):
        losses = []
        for model, opt in ((ref, opt_r), (fast, opt_f)):
            loss = model.loss(tokens)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
        print(f"  fp32 train step {s}: loss hf-style {losses[0]:.6f}, fast {losses[1]:.6f}, difference {abs(losses[0] - losses[1]):.2e}")
        ok &= abs(losses[0] - losses[1]) <= 1e-3
    print("same model: yes" if ok else "same model: NO")
    return ok


def main():
    p = argparse.ArgumentParser(description="The fast PyTorch GPT-2 peer; `check` compares it with the hf-style one.")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="same weights and losses as gpt2_torch.GPT2 (fp32 and bf16 autocast)")
    c.add_argument("--size", default="tiny", choices=["tiny", "gpt2", "gpt2-medium"])
    c.add_argument("--steps", type=int, default=3)
    c.add_argument("--block", type=int, default=128)
    c.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    sys.exit(0 if check(a.size, a.steps, a.block) else 1)


if __name__ == "__main__":
    main()
