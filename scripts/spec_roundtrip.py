#!/usr/bin/env python3
"""Converted GLBs against their inputs through a third reader: scripts/gltf_spec_pose.py's
evaluation straight from the glTF specification (not Rigsmith's reader, not Blender's).

    python3 scripts/spec_roundtrip.py [--out DIR] FILE.glb|.gltf ...

Each FILE is converted with `rigsmith convert FILE OUT.glb`; both are evaluated at the nodes'
own transforms and at 1/3 and 2/3 of every clip (at most 3 clips), weights normalised (Rigsmith
and Blender renormalise files whose weights do not sum to 1). Vertices are compared in order
when the counts match and the rest positions agree in order, else each vertex is matched to the
other file's nearest (both ways). One line per file: largest distance / the input's diagonal;
PASS under 1e-4. Files using sparse accessors or compression extensions are a SKIP.
Rigsmith: RIGSMITH env var or $CARGO_TARGET_DIR/debug/rigsmith. Needs numpy.
"""
import importlib.util, json, os, subprocess, sys, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gltf_spec_pose", os.path.join(HERE, "gltf_spec_pose.py"))
g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)
g.NORMALISE = True
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target"))
RIGSMITH = os.environ.get("RIGSMITH", os.path.join(TARGET, "debug", "rigsmith"))


def cloud(path, clip, t):
    return np.vstack(list(g.evaluate(path, clip, t).values()))


def nearest(x, y):
    best = []
    for i in range(0, len(x), 400):
        best.append(np.sqrt(((x[i:i + 400, None, :] - y[None, :, :]) ** 2).sum(-1).min(1)))
    return np.concatenate(best) if best else np.zeros(0)


def compare(a_path, b_path):
    doc, _ = g.load(a_path)
    clips = [None] + [(i, f) for i in range(min(3, len(doc.get("animations", [])))) for f in (1 / 3, 2 / 3)]
    a0, b0 = cloud(a_path, None, 0.0), cloud(b_path, None, 0.0)
    diag = float(np.linalg.norm(a0.max(0) - a0.min(0))) or 1.0
    in_order = len(a0) == len(b0) and np.linalg.norm(a0 - b0, axis=1).max() / diag < 1e-4
    worst, where = 0.0, "rest"
    for c in clips:
        if c is None:
            a, b = a0, b0
        else:
            anim = doc["animations"][c[0]]
            d, binc = g.load(a_path)
            ends = [g.accessor(d, binc, s["input"])[:, 0] for s in anim["samplers"]]
            t0, t1 = min(e.min() for e in ends), max(e.max() for e in ends)
            t = t0 + c[1] * (t1 - t0)
            a, b = cloud(a_path, c[0], t), cloud(b_path, c[0], t)
        if in_order:
            e = np.linalg.norm(a - b, axis=1).max() / diag
        else:
            e = max(nearest(a, b).max(), nearest(b, a).max()) / diag
        if e > worst:
            worst, where = e, "rest" if c is None else f"clip {doc['animations'][c[0]].get('name', c[0])} at {c[1]:.2f}"
    return worst, where, "in order" if in_order else "nearest"


def main():
    args = sys.argv[1:]
    out_dir = tempfile.mkdtemp()
    if args[:1] == ["--out"]:
        out_dir, args = args[1], args[2:]
    os.makedirs(out_dir, exist_ok=True)
    fails = 0
    for k, f in enumerate(args):
        name = f"{k:03d}_{os.path.splitext(os.path.basename(f))[0]}"
        out = os.path.join(out_dir, name + ".glb")
        try:
            r = subprocess.run([RIGSMITH, "convert", f, out, "--force"], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {f}: convert: {r.stderr.strip().splitlines()[-1]}"); fails += 1; continue
            src = f
            raw = json.dumps(g.load(src)[0])
            if '"sparse"' in raw or "KHR_draco" in raw or "EXT_meshopt" in raw:
                print(f"SKIP {f}: sparse accessors or compressed buffers"); continue
            e, where, how = compare(src, out)
            ok = e <= 1e-4
            fails += not ok
            print(f"{'PASS' if ok else 'FAIL'} {e:.2e} of the diagonal (worst: {where}; vertices {how})  {f}")
        except Exception as ex:  # a file this reader cannot evaluate
            print(f"SKIP {f}: {type(ex).__name__}: {ex}")
    sys.exit(1 if fails else 0)


main()
