"""Sums a CubeCL kernel-profiling log by kernel family: where a wgpu step's GPU time goes.

The log comes from running rticket with a `cubecl.toml` in the working directory such as

    [profiling]
    logger = { level = "basic", file = "/tmp/prof.log" }

which makes CubeCL time every kernel launch on the device and write one line per launch,
`| 46.18ms | PrngKernel | NormalFamily_477c0bd2`. A family is the name without its trailing
hash (the fused element-wise kernels keep one family for all their shapes). The total kernel
time against the step's wall time says whether a step is bound by the GPU's work or by the
host's launching and fusing.

Stdlib only: python3 bench/kernel_profile.py prof.log [--top 25] [--steps N]
"""

import argparse
import collections
import re

LINE = re.compile(r"^\|\s*([0-9.]+)(ns|µs|us|ms|s)\s*\|\s*(.+?)\s*$")
SCALE = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def family(name):
    """`KernelBinop | AddOp_d8cabf4d` -> `KernelBinop | AddOp`; a matmul keeps its algorithm and
    loaders but not its argument plumbing (`DynamicScalar | __Lhs | DynamicSize | ...`)."""
    parts = re.sub(r"_[0-9a-f]{6,}$", "", name).split(" | ")
    return " | ".join(p for p in parts if p not in ("DynamicScalar", "DynamicSize", "()") and not p.startswith("__"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--steps", type=int, default=1, help="steps in the log, for per-step figures")
    args = parser.parse_args()

    seconds = collections.Counter()
    launches = collections.Counter()
    with open(args.log, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = LINE.match(line)
            if match:
                value, unit, name = match.groups()
                kind = family(name)
                seconds[kind] += float(value) * SCALE[unit]
                launches[kind] += 1
    total = sum(seconds.values())
    count = sum(launches.values())
    if count == 0:
        raise SystemExit(f"{args.log}: no timed kernel lines (is the profiling level 'basic' or above?)")
    per = args.steps
    print(f"{count} launches, {total * 1e3:.1f} ms of kernel time in all; per step ({per}): "
          f"{count / per:.0f} launches, {total * 1e3 / per:.1f} ms")
    print(f"{'family':<100} {'launches':>9} {'ms':>10} {'share':>6}")
    for kind, time in seconds.most_common(args.top):
        print(f"{kind[:100]:<100} {launches[kind]:>9} {time * 1e3:>10.2f} {time / total:>6.1%}")


if __name__ == "__main__":
    main()
