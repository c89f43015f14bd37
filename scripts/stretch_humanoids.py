#!/usr/bin/env python3
"""Stretched copies of rigged characters, with their artists' skeletons stretched alike: test
characters of other proportions for the biped template (taller, or with longer arms and a
wider build), made with Blender so that Rigsmith's own code plays no part in them.

    $VALIDATORS_PY scripts/stretch_humanoids.py --output DIR FILE.glb ...

For each FILE and each stretch (`tall`: 1.2 along up; `wide`: 1.2 from side to side, which
lengthens arms held out in a T-pose): import with Blender's glTF importer, scale every object
about the ground under the origin, apply the scale (the armature's rest bones and the meshes'
vertices move; the skin's bind follows), export as DIR/NAME_STRETCH.glb. Prints each file
written.
"""
import argparse, os, sys

import bpy

# Blender is Z-up; glTF's up (Y) arrives as Blender's Z.
STRETCHES = {"tall": (1.0, 1.0, 1.2), "wide": (1.2, 1.0, 1.0)}


def stretched(path, scale, out):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=path)
    roots = [o for o in bpy.context.scene.objects if o.parent is None]
    for o in roots:
        o.scale = tuple(s * k for s, k in zip(o.scale, scale))
        o.location = tuple(v * k for v, k in zip(o.location, scale))
    bpy.context.view_layer.update()
    bpy.ops.object.select_all(action="SELECT")
    bpy.context.view_layer.objects.active = roots[0]
    bpy.ops.object.transform_apply(location=False, rotation=False, scale=True, properties=False)
    bpy.ops.export_scene.gltf(filepath=out, export_format="GLB", export_animations=False, export_skins=True)


def main():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    os.makedirs(a.output, exist_ok=True)
    for path in a.files:
        stem = os.path.splitext(os.path.basename(os.path.dirname(path)) + "_" + os.path.basename(path))[0]
        for name, scale in STRETCHES.items():
            out = os.path.join(a.output, f"{stem}_{name}.glb")
            stretched(os.path.abspath(path), scale, out)
            print(out, flush=True)


if __name__ == "__main__":
    main()
