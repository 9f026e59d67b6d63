"""Writes a copy of a safetensors file with its F32 tensors as F16 (stdlib only), for the device
check's carry limit (bench/gpu-check.sh: both loaders widen F16 to F32). Usage: python3 bench/to_f16.py SRC DST"""
import json, struct, sys, array
src, dst = sys.argv[1], sys.argv[2]
raw = open(src, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8+n]); body = raw[8+n:]
meta = header.pop('__metadata__', None)
out_header, chunks, off = {}, [], 0
for name, t in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
    a, b = t['data_offsets']; data = body[a:b]
    if t['dtype'] == 'F32':
        vals = array.array('f'); vals.frombytes(data)
        data = struct.pack(f'<{len(vals)}e', *vals); dtype = 'F16'
    else:
        dtype = t['dtype']
    out_header[name] = {'dtype': dtype, 'shape': t['shape'], 'data_offsets': [off, off + len(data)]}
    chunks.append(data); off += len(data)
if meta: out_header['__metadata__'] = meta
h = json.dumps(out_header, separators=(',', ':')).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
with open(dst, 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h)
    for c in chunks: f.write(c)
