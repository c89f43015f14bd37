#!/usr/bin/env python3
"""Blender's playback of a rig's clip against Rigsmith's, frame by frame.

    $VALIDATORS_PY scripts/blender_motion_check.py RIG.glb|RIG.fbx FRAMES_DIR [--keys 3]

RIG is what `rigsmith rig-from-motion --output` wrote; FRAMES_DIR is Rigsmith's playback of
that file, one OBJ per key (`rigsmith rig-from-motion --input RIG --frames-out FRAMES_DIR`),
in glTF's Y-up frame. Blender 5 imports RIG with its own importer; key i of the imported action
is frame i. At the first, a middle and the last key (--keys) the deformed mesh (depsgraph,
armature modifier) is compared with the frame, vertices paired by their rest position (the
bind pose FRAMES_DIR/bind/frame_0000.obj when there, else frame 0). Prints one JSON line per key and exits 1
when a vertex is further than 1e-4 of the diagonal from Rigsmith's.
"""
import argparse
import glob
import json
import os
import sys

import bpy
import numpy as np

ZUP_TO_YUP = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float64)


def read_obj(path):
    return np.array([[float(x) for x in line.split()[1:4]] for line in open(path) if line.startswith("v ")])


def load(path):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if path.lower().endswith(".fbx"):
        bpy.ops.import_scene.fbx(filepath=path)
    else:
        bpy.ops.import_scene.gltf(filepath=path)


def key_frames():
    frames = set()
    for action in bpy.data.actions:
        for fc in getattr(action, "fcurves", []) or []:
            frames.update(round(k.co[0], 4) for k in fc.keyframe_points)
        for layer in getattr(action, "layers", []) or []:
            for strip in layer.strips:
                for bag in strip.channelbags:
                    for fc in bag.fcurves:
                        frames.update(round(k.co[0], 4) for k in fc.keyframe_points)
    return sorted(frames)


def world_vertices(evaluated):
    depsgraph = bpy.context.evaluated_depsgraph_get()
    out = []
    for obj in bpy.data.objects:
        # Skinned meshes only (the glTF importer adds an Icosphere as a bone shape).
        if obj.type != "MESH" or not any(m.type == "ARMATURE" for m in obj.modifiers):
            continue
        source = obj.evaluated_get(depsgraph) if evaluated else obj
        mesh = source.to_mesh() if evaluated else obj.data
        m = np.array(obj.matrix_world)
        co = np.array([v.co[:] for v in mesh.vertices], dtype=np.float64)
        out.append((co @ m[:3, :3].T + m[:3, 3]) @ ZUP_TO_YUP.T)
        if evaluated:
            source.to_mesh_clear()
    return np.concatenate(out)


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("rig")
    ap.add_argument("frames")
    ap.add_argument("--keys", type=int, default=3)
    a = ap.parse_args(argv)
    files = sorted(glob.glob(os.path.join(a.frames, "*.obj")))
    load(os.path.abspath(a.rig))
    keys = key_frames()
    if len(keys) != len(files):
        print(json.dumps({"error": f"Blender reads {len(keys)} keys, the sequence has {len(files)} frames"}))
        sys.exit(1)
    # Blender's undeformed mesh is the file's bind pose: `--frames-out` writes Rigsmith's
    # reading of it to bind/frame_0000.obj (a rig from OBJ frames rests at its first frame).
    bind = os.path.join(a.frames, "bind", "frame_0000.obj")
    first = read_obj(bind if os.path.exists(bind) else files[0])
    diag = float(np.linalg.norm(first.max(0) - first.min(0)))
    bl_rest = world_vertices(False)
    # Each Blender vertex: the input vertices at its rest position.
    pairs = []
    for k, p in enumerate(bl_rest):
        d = np.linalg.norm(first - p, axis=1)
        if d.min() > 1e-4 * diag:
            print(json.dumps({"error": f"Blender vertex {k} rests {d.min() / diag:.2e} of the diagonal from any input vertex"}))
            sys.exit(1)
        pairs.append(np.nonzero(d <= d.min() + 1e-6 * diag)[0])
    worst_all = 0.0
    picks = sorted({round(f * (len(files) - 1)) for f in np.linspace(0, 1, a.keys)})
    for i in picks:
        frame = keys[i]
        bpy.context.scene.frame_set(int(np.floor(frame)), subframe=float(frame - np.floor(frame)))
        posed = world_vertices(True)
        target = read_obj(files[i])
        errors = [float(np.linalg.norm(target[near] - q, axis=1).min()) for near, q in zip(pairs, posed)]
        rms = float(np.sqrt(np.mean(np.square(errors))))
        worst = max(errors)
        worst_all = max(worst_all, worst)
        print(json.dumps({"key": i, "blender_frame": frame, "vertices": len(posed), "rmse_over_diag": rms / diag, "max_over_diag": worst / diag}))
    sys.exit(0 if worst_all <= 1e-4 * diag else 1)


if __name__ == "__main__":
    main()
