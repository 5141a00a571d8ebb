#!/usr/bin/env python3
"""GPT-2 in plain PyTorch: the independent reference for tweetsmith's engine.

Numerically the same model as Hugging Face's GPT2LMHeadModel (eval mode,
no dropout), written from the architecture, not from `transformers`:

    x = wte[tokens] + wpe[0..T-1]
    for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
    logits = ln_f(x) @ wte.T                      (tied output embedding)
    loss = mean cross-entropy of logits[:, :-1] against tokens[:, 1:]
           over all batch x (T-1) positions

Parameter names are those of the `gpt2` hub repo's model.safetensors without
the `transformer.` prefix (wte.weight, h.0.attn.c_attn.weight, ...), and
Conv1D weights are stored [in, out] (y = x @ W + b), exactly as in the file.

Also here: HF-style random init, a hand-written safetensors reader/writer
(struct + json + numpy, no `safetensors` package), a model-dir loader, and a
small CLI:

    python3 scripts/reference/gpt2_torch.py logits MODEL_DIR TOKENS_JSON OUT.safetensors

Needs torch and numpy only (Debian: apt-get install python3-torch python3-numpy;
run it as `/usr/bin/python3 scripts/reference/gpt2_torch.py ...` if the
`python3` on PATH has no torch).
"""
import argparse
import json
import math
import os
import struct
import sys
from dataclasses import dataclass

try:
    import numpy as np
    import torch
except ImportError as e:   # e.g. a pyenv `python3` first on PATH
    sys.exit(f"{e}: run this with a Python that has torch and numpy, e.g. Debian's "
             f"(apt-get install python3-torch python3-numpy; /usr/bin/python3 {sys.argv[0]} ...)")
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# config

@dataclass
class GPT2Config:
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    n_positions: int = 1024
    vocab_size: int = 50257
    n_inner: int = None              # None -> 4 * n_embd
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02

    def __post_init__(self):
        if self.n_inner is None:
            self.n_inner = 4 * self.n_embd
        assert self.n_embd % self.n_head == 0, "n_embd must be a multiple of n_head"

    @classmethod
    def from_hf_dict(cls, d):
        """From a Hugging Face GPT-2 config.json (as a dict)."""
        act = d.get("activation_function", "gelu_new")
        if act not in ("gelu_new", "gelu_pytorch_tanh"):
            raise ValueError(f"unsupported activation_function {act!r} (only the tanh GELU)")
        return cls(
            n_layer=d["n_layer"],
            n_head=d["n_head"],
            n_embd=d["n_embd"],
            n_positions=d.get("n_positions", d.get("n_ctx")),
            vocab_size=d["vocab_size"],
            n_inner=d.get("n_inner"),
            layer_norm_epsilon=d.get("layer_norm_epsilon", 1e-5),
            initializer_range=d.get("initializer_range", 0.02),
        )

    @classmethod
    def from_json_file(cls, path):
        with open(path) as f:
            return cls.from_hf_dict(json.load(f))


# ----------------------------------------------------------------------------
# model

def gelu_new(x):
    """GELU, tanh approximation (HF's NewGELUActivation / "gelu_new")."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def causal_attention(q, k, v):
    """softmax(q k^T / sqrt(head_size), causal) v, for [B, n_head, T, hs] inputs.
    Future positions get the dtype's most negative value, as HF does (same
    result as -inf: every row keeps its diagonal)."""
    T, hs = q.shape[-2], q.shape[-1]
    att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
    causal = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    att = att.masked_fill(~causal, torch.finfo(att.dtype).min)
    att = F.softmax(att, dim=-1)
    return att @ v


class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer whose weight is stored [in, out]; y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.n_embd = cfg.n_embd
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)   # q, k, v, each n_embd wide, in that order
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        # [B, T, C] -> [B, n_head, T, hs]; head h uses columns h*hs .. (h+1)*hs-1
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        y = causal_attention(q, k, v)                            # [B, n_head, T, hs]
        y = y.transpose(1, 2).contiguous().view(B, T, C)         # heads side by side again
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = Conv1D(cfg.n_embd, cfg.n_inner)
        self.c_proj = Conv1D(cfg.n_inner, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT2(nn.Module):
    """GPT2LMHeadModel's numerics. named_parameters() gives the hub file's names."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)

    def forward(self, tokens):
        """tokens: LongTensor [T] or [B, T]. Returns logits [T, V] or [B, T, V]."""
        squeeze = tokens.dim() == 1
        if squeeze:
            tokens = tokens[None]
        B, T = tokens.shape
        if T > self.cfg.n_positions:
            raise ValueError(f"sequence of {T} tokens is longer than n_positions={self.cfg.n_positions}")
        pos = torch.arange(T, device=tokens.device)
        x = self.wte(tokens) + self.wpe(pos)[None]
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        logits = x @ self.wte.weight.t()
        return logits[0] if squeeze else logits

    def loss(self, tokens):
        """As GPT2LMHeadModel(input_ids=tokens, labels=tokens).loss: mean over all
        B*(T-1) next-token predictions (a [T] input counts as B=1)."""
        if tokens.dim() == 1:
            tokens = tokens[None]
        logits = self(tokens)
        V = logits.shape[-1]
        return F.cross_entropy(logits[:, :-1, :].reshape(-1, V), tokens[:, 1:].reshape(-1))

    # -- weights ---------------------------------------------------------------

    def init_weights_(self, seed=None):
        """HF-style random init (GPT2PreTrainedModel._init_weights): every weight
        matrix and both embeddings ~ N(0, initializer_range); the residual
        projections attn.c_proj.weight and mlp.c_proj.weight ~ N(0,
        initializer_range / sqrt(2 * n_layer)); LayerNorm weight 1, bias 0; all
        biases 0. Same distributions as HF, not HF's RNG stream: parameters are
        drawn in named_parameters() order from torch's global generator."""
        if seed is not None:
            torch.manual_seed(seed)
        std = self.cfg.initializer_range
        std_resid = std / math.sqrt(2 * self.cfg.n_layer)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    p.normal_(0.0, std_resid)
                elif name.endswith(".weight") and ".ln_" not in name and not name.startswith("ln_"):
                    p.normal_(0.0, std)
                elif name.endswith(".weight"):      # LayerNorm gain
                    p.fill_(1.0)
                else:                               # every bias (LayerNorm and linear)
                    p.zero_()
        return self

    def load_state(self, tensors, strict=True):
        """Copy a {name: tensor} dict (names as in the hub file) into the model,
        converting to the model's dtype."""
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in tensors]
        extra = [n for n in tensors if n not in params]
        if strict and (missing or extra):
            raise KeyError(f"state mismatch: missing {missing[:5]}, unexpected {extra[:5]}")
        with torch.no_grad():
            for n, p in params.items():
                if n in tensors:
                    t = tensors[n]
                    if tuple(t.shape) != tuple(p.shape):
                        raise ValueError(f"{n}: shape {tuple(t.shape)} in file, model wants {tuple(p.shape)}")
                    p.copy_(t.to(p.dtype))
        return self

    def state(self):
        """{name: detached tensor}, in named_parameters() order."""
        return {n: p.detach() for n, p in self.named_parameters()}


def is_decayed(name):
    """Weight-decay group as the HF Trainer builds it for GPT-2: every weight
    that is neither a bias nor a LayerNorm parameter."""
    if name.endswith(".bias"):
        return False
    if name.startswith("ln_f.") or ".ln_1." in name or ".ln_2." in name:
        return False
    return True


# ----------------------------------------------------------------------------
# safetensors, by hand

# dtype name -> (numpy dtype to read the raw bytes with, bytes per element)
_ST_DTYPES = {
    "F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<i2", 2),
    "I64": ("<i8", 8), "I32": ("<i4", 4), "I16": ("<i2", 2), "I8": ("i1", 1),
    "U8": ("u1", 1), "BOOL": ("?", 1),
}
_TORCH_TO_ST = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
                torch.uint8: "U8", torch.bool: "BOOL"}


def read_safetensors_header(path):
    """Returns (header dict without __metadata__, metadata dict, data start offset)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000:
            raise ValueError(f"{path}: header length {n} is not plausible")
        header = json.loads(f.read(n).decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    return header, metadata, 8 + n


def read_safetensors(path, keep=None):
    """Read a safetensors file into {name: torch tensor} (stored dtype kept:
    F32 -> float32, F16 -> float16, BF16 -> bfloat16, ...) and its metadata.
    keep(name) -> bool filters entries before any data is read."""
    header, metadata, start = read_safetensors_header(path)
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, e in header.items():
        if keep is not None and not keep(name):
            continue
        if e["dtype"] not in _ST_DTYPES:
            raise ValueError(f"{path}: {name} has unsupported dtype {e['dtype']}")
        npdt, size = _ST_DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        shape = list(e["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - b != count * size:
            raise ValueError(f"{path}: {name} has {end - b} bytes, shape {shape} needs {count * size}")
        arr = np.frombuffer(raw[start + b:start + end], dtype=npdt).copy().reshape(shape)
        t = torch.from_numpy(arr)
        if e["dtype"] == "BF16":
            t = t.view(torch.bfloat16)
        out[name] = t
    return out, metadata


def write_safetensors(path, tensors, metadata=None, dtype=None):
    """Write {name: tensor} in the given order. dtype (e.g. torch.float32)
    converts floating tensors first; otherwise each keeps its own dtype."""
    if metadata is None:
        metadata = {"format": "pt"}
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu()
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        t = t.contiguous()
        st = _TORCH_TO_ST[t.dtype]
        if t.dtype == torch.bfloat16:
            data = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            data = t.numpy().astype(_ST_DTYPES[st][0]).tobytes()
        header[name] = {"dtype": st, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for data in blobs:
            f.write(data)


def _gpt2_name(name):
    """Hub name -> our name, or None for entries that are not parameters."""
    if name.startswith("transformer."):
        name = name[len("transformer."):]
    if name == "lm_head.weight" or name.endswith(".attn.bias") or name.endswith(".attn.masked_bias"):
        return None      # tied output layer, and the causal-mask buffers of old files
    return name


def read_gpt2_safetensors(path):
    """The GPT-2 parameters of a hub-style model.safetensors: `transformer.`
    prefix stripped, mask buffers and lm_head.weight skipped, dtypes as stored."""
    tensors, _ = read_safetensors(path, keep=lambda n: _gpt2_name(n) is not None)
    return {_gpt2_name(n): t for n, t in tensors.items()}


def load_model_dir(model_dir, dtype=torch.float32):
    """GPT2 from a model dir holding config.json and model.safetensors."""
    cfg = GPT2Config.from_json_file(os.path.join(model_dir, "config.json"))
    model = GPT2(cfg).to(dtype)
    model.load_state(read_gpt2_safetensors(os.path.join(model_dir, "model.safetensors")))
    model.eval()
    return model


# ----------------------------------------------------------------------------
# CLI

def _read_tokens(arg):
    if os.path.exists(arg):
        with open(arg) as f:
            data = json.load(f)
    else:
        data = json.loads(arg)                 # inline JSON, e.g. '[464, 3290]'
    if isinstance(data, dict):
        data = data["tokens"]
    return torch.tensor(data, dtype=torch.long)


def main(argv=None):
    ap = argparse.ArgumentParser(description="GPT-2 reference in plain PyTorch.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    lg = sub.add_parser("logits", help="write the logits (and the loss) of a token sequence")
    lg.add_argument("model_dir", help="dir with config.json and model.safetensors")
    lg.add_argument("tokens", help="JSON file (or inline JSON): [ids], [[ids], ...] or {\"tokens\": ...}")
    lg.add_argument("out", help="output .safetensors: logits [T,V] (or [B,T,V]) F32, loss [1] F32")
    lg.add_argument("--float64", action="store_true", help="compute in float64 (stored as F32)")
    args = ap.parse_args(argv)

    if args.cmd == "logits":
        dtype = torch.float64 if args.float64 else torch.float32
        model = load_model_dir(args.model_dir, dtype)
        tokens = _read_tokens(args.tokens)
        with torch.no_grad():
            logits = model(tokens)
            out = {"logits": logits}
            if tokens.shape[-1] >= 2:
                out["loss"] = model.loss(tokens).reshape(1)
        write_safetensors(args.out, out, dtype=torch.float32)
        msg = f"logits {list(logits.shape)}"
        if "loss" in out:
            msg += f", loss {out['loss'].item():.6f}"
        print(f"{msg} -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
