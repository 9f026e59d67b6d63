"""How much a linear head can read from a frozen encoder's sentence features, per pooling.

The evidence behind the mask-only search's mean pooling (results/experiments/NOTES.md): embeds 4000 random MR
sentences with `rticket embed --pooling {mean,pooler,cls}`, trains a linear head (AdamW, lr 1e-2,
batch 16) on 3200 and tests on the other 800. Needs torch (the bench venv) and a built `rticket`.

    python3 bench/linear_probe.py --rticket target/release/rticket
"""

import argparse
import csv
import json
import os
import random
import subprocess
import tempfile

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rticket", default="target/release/rticket")
    parser.add_argument("--data", default=os.path.join(os.environ.get("RTICKET_ASSETS", "assets"), "data/mr-sentences.csv"))
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    with open(args.data, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    random.seed(0)
    random.shuffle(rows)
    rows = rows[:4000]
    labels = torch.tensor([1 if int(r[0]) > 0 else 0 for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w") as f:
            f.write("\n".join(r[1].replace("\n", " ").strip() for r in rows) + "\n")
        for pooling in ["mean", "pooler", "cls"]:
            out = subprocess.run(
                [args.rticket, "--device", "cpu", "embed", "--pooling", pooling, "--max-len", "64", "--input", texts],
                check=True, capture_output=True, text=True,
            ).stdout
            x = torch.tensor(json.loads(out)["embeddings"])
            unit = torch.nn.functional.normalize(x[:64], dim=1)
            cosine = (unit @ unit.T)[~torch.eye(64, dtype=torch.bool)].mean().item()
            torch.manual_seed(0)
            head = torch.nn.Linear(x.shape[1], 2)
            opt = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=0.01)
            for _ in range(args.epochs):
                order = torch.randperm(3200)
                for i in range(0, 3200, 16):
                    idx = order[i : i + 16]
                    loss = torch.nn.functional.cross_entropy(head(x[idx]), labels[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            accuracy = (head(x[3200:]).argmax(1) == labels[3200:]).float().mean().item()
            print(f"{pooling:>6}: test accuracy {accuracy:.3f}, per-dim spread {x.std(0).mean().item():.3f}, mean cosine {cosine:.3f}")


if __name__ == "__main__":
    main()
