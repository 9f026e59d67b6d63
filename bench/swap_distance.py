#!/usr/bin/env python3
"""How far one TextFooler word swap moves the input, against the search adversary's step size.

Usage: bench/swap_distance.py ASSETS_DIR [words]

ASSETS_DIR is what `RTICKET_ASSETS` points at (minilm/ and neighbours.safetensors). For a seeded
sample of `words` (default 300) of the attack's vocabulary, prints the median norm of MiniLM's input
word embeddings and the median and 10th percentile of the distance between a word's embedding and
each of its attack candidates (the neighbours with cosine >= 0.5, TextFooler's threshold). The
search's adversary perturbs the same embeddings with a per-sentence Frobenius norm of about
eta * (K - 1) plus a tiny random start: 0.12 at the setting in results/ (eta 0.12, K = 2), spread
over every token, where one swap moves one token by the printed distance. Standard library only.
"""
import json
import math
import random
import struct
import sys
from array import array

COSINE = 0.5  # TextFooler's candidate threshold (PAPER.md)


def header(f):
    (n,) = struct.unpack("<Q", f.read(8))
    return json.loads(f.read(n)), 8 + n


def tensor(f, head, base, name):
    start, end = head[name]["data_offsets"]
    f.seek(base + start)
    return f.read(end - start)


def main():
    assets = sys.argv[1]
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with open(f"{assets}/neighbours.safetensors", "rb") as f:
        head, base = header(f)
        words = json.loads(head["__metadata__"]["words"])
        k = head["neighbours"]["shape"][1]
        neighbours = array("I")
        neighbours.frombytes(tensor(f, head, base, "neighbours"))
        raw = tensor(f, head, base, "cosines")
        cosines = [c for (c,) in struct.iter_unpack("<e", raw)]
    token = {w: i for i, w in enumerate(line.rstrip("\n") for line in open(f"{assets}/minilm/vocab.txt"))}
    with open(f"{assets}/minilm/model.safetensors", "rb") as f:
        head, base = header(f)
        name = "embeddings.word_embeddings.weight"
        dim = head[name]["shape"][1]
        table = array("f")
        table.frombytes(tensor(f, head, base, name))

    def embedding(word):
        t = token[word]
        return table[t * dim : (t + 1) * dim]

    random.seed(0)
    norms, distances = [], []
    for w in random.sample(range(len(words)), min(sample, len(words))):
        if words[w] not in token:
            continue
        v = embedding(words[w])
        norms.append(math.sqrt(sum(x * x for x in v)))
        for j in range(k):
            n, c = neighbours[w * k + j], cosines[w * k + j]
            if c >= COSINE and words[n] in token:
                u = embedding(words[n])
                distances.append(math.sqrt(sum((a - b) ** 2 for a, b in zip(v, u))))
    norms.sort()
    distances.sort()
    print(f"words sampled: {len(norms)}, candidate pairs (cosine >= {COSINE}): {len(distances)}")
    print(f"input embedding norm, median: {norms[len(norms) // 2]:.3f}")
    print(f"one swap's distance, median: {distances[len(distances) // 2]:.3f}, 10th percentile: {distances[len(distances) // 10]:.3f}")


if __name__ == "__main__":
    main()
