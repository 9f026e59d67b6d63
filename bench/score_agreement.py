#!/usr/bin/env python3
"""How much two mask searches agree: the diagnostic behind results/experiments/NOTES.md's reading of the search.

Usage: bench/score_agreement.py A/scores.safetensors B/scores.safetensors [sparsity]
       bench/score_agreement.py A/scores.safetensors assets/minilm/model.safetensors [sparsity]

Reads the gate scores (log_alpha, `scores.*` tensors) of two `rticket search` runs and prints, over
every gated weight (every 7th weight, for speed), the Pearson correlation of the two runs' scores
and, for the ticket each would draw at `sparsity` (global top-k), the fraction of A's pruned
weights that B prunes too. Two searches that rank weights at random agree on `sparsity` of them
(0.30 at 30%); identical rankings on 1.0. When B is a model's weights instead of a search, its
ranking is the weights' magnitude |w| (what IMP prunes by). Standard library only (no numpy here).
"""
import json
import math
import struct
import sys
from array import array

STRIDE = 7


def scores(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    names = sorted(k for k in header if k.startswith("scores."))
    magnitude = not names
    if magnitude:  # a model: the gated matrices' weights, ranked by |w|
        names = sorted(k for k in header if k.endswith(".weight") and header[k]["dtype"] == "F32" and len(header[k]["shape"]) == 2
                       and (".attention." in k or ".intermediate." in k or ".output." in k or k.startswith("pooler.")))
    out = array("f")
    for name in names:
        start, end = header[name]["data_offsets"]
        values = array("f")
        values.frombytes(data[8 + n + start : 8 + n + end])
        out.extend(abs(v) for v in values[::STRIDE]) if magnitude else out.extend(values[::STRIDE])
    return out


def main():
    a, b = scores(sys.argv[1]), scores(sys.argv[2])
    sparsity = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
    if len(a) != len(b):
        sys.exit("the two searches gate different matrices")
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    r = cov / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")
    ta = sorted(a)[int(sparsity * n)]
    tb = sorted(b)[int(sparsity * n)]
    pruned_a = [x < ta for x in a]
    both = sum(1 for pa, y in zip(pruned_a, b) if pa and y < tb)
    print(json.dumps({
        "weights_sampled": n,
        "pearson_r": round(r, 4),
        "sparsity": sparsity,
        "pruned_by_a_also_pruned_by_b": round(both / max(1, sum(pruned_a)), 4),
        "by_chance": sparsity,
    }))


if __name__ == "__main__":
    main()
