"""PyTorch-eager benchmark of one robust ticket search step (paper-mode `rticket search`).

Mirrors the Rust step so that the two can be timed against each other:
  * shared/src/model/*.rs      -- the BERT encoder (HF BertModel, post-LN, GELU erf) with a
                                  linear head on tanh(pooler.dense(h_CLS));
  * shared/src/gate.rs         -- a hard-concrete gate per weight of the 37 gated matrices
                                  (q, k, v, attention.output.dense, intermediate.dense,
                                  output.dense per layer, plus pooler.dense), W_eff = W * z,
                                  a fresh sample z per forward pass;
  * trainer/src/train/objective.rs and fit.rs -- FreeLB-style adversary in word-embedding space
    (K ascent steps, gradients of CE/K accumulated), global grad-norm clip to 1.0 of the task
    gradients, then the L0 penalty's gradients added, then AdamW on the gate scores only.
Encoder and head are frozen; only the 37 log_alpha tensors train. Dropout (p=0.1, as
config.json) is active as in rticket's search, where `no_grad()` freezes weights but leaves
dropout on; pass --dropout 0 to turn it off.

Plain torch + safetensors; no transformers. Random batch (ids in [1000, 30000), full mask).
"""

import argparse
import json
import math
import os
import resource
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

GAMMA, ZETA, BETA, INIT_LOG_ALPHA, NOISE_EPS = -0.1, 1.1, 2.0 / 3.0, math.log(5.0), 1e-4
GATED = ["attention.self.query", "attention.self.key", "attention.self.value",
         "attention.output.dense", "intermediate.dense", "output.dense"]


def gate_sample(log_alpha):
    """One hard-concrete sample z in [0, 1], differentiable in log_alpha."""
    u = torch.empty_like(log_alpha).uniform_(NOISE_EPS, 1.0 - NOISE_EPS)
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha) / BETA)
    return (s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


class GatedBert:
    """BERT encoder + 2-class head from a safetensors file; weights frozen, gates trainable."""

    def __init__(self, model_dir, labels=2, dropout=0.1, device="cpu"):
        cfg = json.load(open(os.path.join(model_dir, "config.json")))
        raw = load_file(os.path.join(model_dir, "model.safetensors"))
        self.w = {k[5:] if k.startswith("bert.") else k: v.float().to(device) for k, v in raw.items()}
        self.layers, self.heads = cfg["num_hidden_layers"], cfg["num_attention_heads"]
        self.eps, self.dropout = cfg["layer_norm_eps"], dropout
        hidden = cfg["hidden_size"]
        if "classifier.weight" in self.w:
            self.head_w, self.head_b = self.w["classifier.weight"], self.w["classifier.bias"]
        else:  # a fresh head, as rticket's Dense::random
            self.head_w = torch.randn(labels, hidden, device=device) * 0.02
            self.head_b = torch.zeros(labels, device=device)
        names = [f"encoder.layer.{i}.{g}" for i in range(self.layers) for g in GATED] + ["pooler.dense"]
        self.log_alpha = {n: torch.full_like(self.w[n + ".weight"], INIT_LOG_ALPHA, requires_grad=True) for n in names}
        self.gated = True

    def linear(self, x, name):
        w = self.w[name + ".weight"]
        if self.gated and name in self.log_alpha:
            w = w * gate_sample(self.log_alpha[name])
        return F.linear(x, w, self.w[name + ".bias"])

    def norm(self, x, name):
        return F.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def drop(self, x):
        return F.dropout(x, self.dropout, training=self.dropout > 0)

    def encode(self, words, mask):
        """Last hidden states from (possibly perturbed) word embeddings [b, s, h]."""
        b, s, h = words.shape
        pos = self.w["embeddings.position_embeddings.weight"][:s]
        typ = self.w["embeddings.token_type_embeddings.weight"][0]  # token_type_ids all 0
        x = self.drop(self.norm(words + pos + typ, "embeddings.LayerNorm"))
        bias = ((1.0 - mask) * -1e4).view(b, 1, 1, s)
        hd = h // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            split = lambda t: t.view(b, s, self.heads, hd).transpose(1, 2)
            q, k, v = (split(self.linear(x, p + n)) for n in GATED[:3])
            probs = self.drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, -1))
            ctx = (probs @ v).transpose(1, 2).reshape(b, s, h)
            x = self.norm(self.drop(self.linear(ctx, p + "attention.output.dense")) + x, p + "attention.output.LayerNorm")
            inner = F.gelu(self.linear(x, p + "intermediate.dense"))
            x = self.norm(self.drop(self.linear(inner, p + "output.dense")) + x, p + "output.LayerNorm")
        return x

    def logits(self, words, mask):
        pooled = torch.tanh(self.linear(self.encode(words, mask)[:, 0], "pooler.dense"))
        return F.linear(self.drop(pooled), self.head_w, self.head_b)

    def l0(self):
        """Expected fraction of open gates: mean over all gated weights."""
        shift = BETA * math.log(-GAMMA / ZETA)
        total = sum(torch.sigmoid(a - shift).sum() for a in self.log_alpha.values())
        return total / sum(a.numel() for a in self.log_alpha.values())


def search_step(model, opt, ids, mask, y, k, eta=0.03, eps0=0.05, lam=0.5, max_norm=1.0):
    words = F.embedding(ids, model.w["embeddings.word_embeddings.weight"]).detach()
    b, s, h = words.shape
    scale = eps0 / torch.sqrt(mask.sum(1) * h).view(b, 1, 1)
    delta = (torch.empty_like(words).uniform_(-1, 1) * mask.unsqueeze(-1) * scale).detach()
    for t in range(k):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model.logits(words + delta, mask), y) / k
        loss.backward()
        if t + 1 < k:  # rticket skips the unused last update
            g = delta.grad
            norm = g.pow(2).sum((1, 2), keepdim=True).sqrt().clamp_min(1e-8)
            delta = (delta + eta * g / norm).detach()
    params = list(model.log_alpha.values())
    torch.nn.utils.clip_grad_norm_(params, max_norm)  # task gradients, as fit.rs
    (lam * model.l0()).backward()  # the penalty's gradients are added after clipping
    opt.step()
    opt.zero_grad(set_to_none=True)


def main():
    default_model = os.path.join(os.environ.get("RTICKET_ASSETS", "assets"), "minilm")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=default_model)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5, help="K, adversarial ascent steps")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (times each step after a synchronize)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    model = GatedBert(a.model, dropout=a.dropout, device=a.device)
    cuda = a.device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    n = sum(t.numel() for t in model.log_alpha.values())
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{len(model.log_alpha)} gated matrices, {n} gates")
    opt = torch.optim.AdamW(model.log_alpha.values(), lr=0.1, weight_decay=1e-6, eps=1e-8)
    ids = torch.randint(1000, 30000, (a.batch, a.seq)).to(a.device)
    mask = torch.ones(a.batch, a.seq, device=a.device)
    y = torch.randint(0, 2, (a.batch,)).to(a.device)

    for _ in range(a.warmup):
        search_step(model, opt, ids, mask, y, a.steps)
    sync()
    times = []
    for i in range(a.iters):
        t0 = time.perf_counter()
        search_step(model, opt, ids, mask, y, a.steps)
        sync()
        times.append(time.perf_counter() - t0)
        print(f"step {i}: {times[-1]:.3f} s")
    wall = sum(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    hwm = next(l.split(":")[1].strip() for l in open("/proc/self/status") if l.startswith("VmHWM"))
    print(f"VmHWM {hwm}, L0 {model.l0().item():.4f}")
    print(json.dumps({
        "impl": "pytorch-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "batch": a.batch, "seq": a.seq, "K": a.steps,
        "examples_per_s": round(a.batch * a.iters / wall, 3) if wall else None,
        "seconds_per_step": round(wall / a.iters, 4) if a.iters else None,
        "peak_rss_mib": round(rss, 1), "device": torch.cuda.get_device_name() if cuda else "cpu",
        "peak_gpu_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
    }))


if __name__ == "__main__":
    main()
