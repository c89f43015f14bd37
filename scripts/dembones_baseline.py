#!/usr/bin/env python3
"""Dem Bones (py-dem-bones, BSD-3) on a folder of OBJ frames, scored as Rigsmith scores itself.

Usage: dembones_baseline.py FRAMES_DIR BONES [--max-influences 4] [--iterations 30] [--rest REST.obj]

FRAMES_DIR holds frame_0000.obj, ... as `rigsmith rig-from-motion --frames-out` writes them.
Vertices are welded by position (1e-6 of the diagonal, as Rigsmith does) before solving; the
error is the root mean square over every input vertex and frame, in % of the first frame's
bounding-box diagonal. Dem Bones runs with the first frame as its rest pose and, when
FRAMES_DIR/bind/frame_0000.obj holds the file's bind pose (or --rest names a mesh), again with
that one; the better of the two is reported (its time with it), as the first frame gave lower
errors on most sequences but not all. Prints one JSON line. Needs numpy and py-dem-bones (pip install py-dem-bones) in the running
Python; never a dependency of Rigsmith.
"""
import argparse
import glob
import json
import os
import time

import numpy as np
import py_dem_bones as pdb


def read_obj(path):
    verts, faces = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("v "):
                verts.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("f "):
                faces.append([int(tok.split("/")[0]) - 1 for tok in line.split()[1:]])
    return np.array(verts, dtype=np.float64), faces


def weld(rest, tolerance):
    cells = {}
    mapping = np.empty(len(rest), dtype=np.int64)
    for i, p in enumerate(rest):
        key = tuple(np.round(p / tolerance).astype(np.int64))
        mapping[i] = cells.setdefault(key, len(cells))
    first = np.full(len(cells), -1, dtype=np.int64)
    for i, w in enumerate(mapping):
        if first[w] < 0:
            first[w] = i
    return mapping, first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("frames")
    ap.add_argument("bones", type=int)
    ap.add_argument("--max-influences", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--rest")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.frames, "*.obj")))
    frames, faces = [], None
    for f in files:
        v, fc = read_obj(f)
        frames.append(v)
        faces = faces or fc
    frames = np.stack(frames)
    first = frames[0]
    diagonal = float(np.linalg.norm(first.max(0) - first.min(0)))
    rests = [("first frame", first)]
    bind = a.rest or os.path.join(a.frames, "bind", "frame_0000.obj")
    if os.path.exists(bind):
        rests.append((bind, read_obj(bind)[0]))
    runs = [solve(name, rest, frames, faces, diagonal, a) for name, rest in rests]
    best = min(runs, key=lambda r: r["rmse_percent"])
    best["tried"] = {r["rest"]: round(r["rmse_percent"], 5) for r in runs}
    print(json.dumps(best))


def solve(name, rest, frames, faces, diagonal, a):
    first = frames[0]
    mapping, keep = weld(rest, diagonal * 1e-6)
    welded_faces = []
    for face in faces:
        w = [int(mapping[i]) for i in face]
        if len(set(w)) == len(w):
            welded_faces.append(w)
    started = time.perf_counter()
    result = pdb.solve_skinning(rest[keep], frames[:, keep], a.bones, faces=welded_faces,
                                max_influences=a.max_influences, iterations=a.iterations)
    seconds = time.perf_counter() - started
    weights = np.asarray(result.weights)  # (B, V)
    transforms = np.asarray(result.transforms)  # (F, B, 4, 4)
    home = np.concatenate([rest[keep], np.ones((len(keep), 1))], axis=1)
    total = 0.0
    for t in range(len(frames)):
        moved = np.einsum("bij,vj->bvi", transforms[t][:, :3, :], home)  # (B, V, 3)
        posed = np.einsum("bv,bvi->vi", weights, moved)
        total += float(((posed[mapping] - frames[t]) ** 2).sum())
    rmse = np.sqrt(total / (len(frames) * len(first)))
    bones_used = int((weights.max(axis=1) > 0).sum())
    return {
        "frames": len(frames), "vertices": len(first), "welded": len(keep), "bones_asked": a.bones,
        "bones_used": bones_used, "rmse_percent": 100.0 * rmse / diagonal, "seconds": seconds, "rest": name,
    }

if __name__ == "__main__":
    main()
