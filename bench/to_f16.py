"""Writes a copy of a safetensors file with its F32 tensors stored as F16, for the device check's
64 MiB carry limit (bench/gpu-check.sh; both model loaders widen F16 back to F32). Other dtypes and
the metadata are copied as they are.

Stdlib only: python3 bench/to_f16.py SRC DST
"""

import array
import json
import struct
import sys


def read(path):
    """(header without metadata, metadata or None, data section) of a safetensors file."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    return header, header.pop("__metadata__", None), raw[8 + n :]


def as_f16(data):
    """Little-endian F32 bytes as little-endian F16 bytes (round to nearest)."""
    values = array.array("f")
    values.frombytes(data)
    return struct.pack(f"<{len(values)}e", *values)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    header, metadata, body = read(src)
    out_header, chunks, offset = {}, [], 0
    # In the source's data order, so the copy's offsets grow the same way.
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        start, end = entry["data_offsets"]
        data, dtype = body[start:end], entry["dtype"]
        if dtype == "F32":
            data, dtype = as_f16(data), "F16"
        out_header[name] = {"dtype": dtype, "shape": entry["shape"], "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        out_header["__metadata__"] = metadata
    text = json.dumps(out_header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned
    with open(dst, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for chunk in chunks:
            out.write(chunk)


if __name__ == "__main__":
    main()
