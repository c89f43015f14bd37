#!/usr/bin/env python3
"""A third reader of GLB files, straight from the glTF 2.0 specification (numpy only), for
settling what a file shows when two programs read it differently.

    python3 scripts/gltf_spec_pose.py FILE.glb CLIP|- TIME [OTHER.glb] [--normalise]

Evaluates FILE at clip CLIP (`-`: the nodes' own transforms) and TIME seconds: node world matrices
from the animated translation / rotation / scale (LINEAR, STEP, CUBICSPLINE values), each mesh
node's vertices through its world matrix (rigid) or through sum_i w_i * joint_world_i * IBM_i
(skinned, the mesh node's own transform ignored, weights taken as written; --normalise divides
each vertex's weights by their sum, as Blender and Rigsmith do with files whose sums are not 1).
Reads .glb and .gltf (external or embedded buffers). Prints each mesh node's extent; with OTHER, the largest distance between the two files' vertices
per mesh node (matched by node name and vertex order) as a fraction of FILE's bounding-box
diagonal. Sparse accessors are not read.
"""
import json, struct, sys
import numpy as np

def load(path):
    """(document, buffers): a .glb's JSON and binary chunk, or a .gltf's JSON and its buffers
    (files beside it or data URIs)."""
    import base64, os
    data = open(path, "rb").read()
    if data[:4] != b"glTF":
        doc = json.loads(data)
        bufs = []
        for b in doc.get("buffers", []):
            uri = b.get("uri", "")
            if uri.startswith("data:"):
                bufs.append(base64.b64decode(uri.split(",", 1)[1]))
            else:
                from urllib.parse import unquote
                bufs.append(open(os.path.join(os.path.dirname(path), unquote(uri)), "rb").read())
        return doc, bufs
    n = struct.unpack("<I", data[12:16])[0]
    doc = json.loads(data[20:20 + n])
    off = 20 + n
    bufs = []
    if off + 8 <= len(data):
        blen = struct.unpack("<I", data[off:off + 4])[0]
        bufs.append(data[off + 8: off + 8 + blen])
    return doc, bufs


COMP = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
NC = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}

def accessor(doc, binc, i):
    a = doc["accessors"][i]
    dt = COMP[a["componentType"]]; nc = NC[a["type"]]; cnt = a["count"]
    out = np.zeros((cnt, nc), dtype=np.float64)
    if "bufferView" in a:
        bv = doc["bufferViews"][a["bufferView"]]
        start = bv.get("byteOffset", 0) + a.get("byteOffset", 0)
        isz = np.dtype(dt).itemsize
        stride = bv.get("byteStride", isz * nc)
        buf = binc[bv.get("buffer", 0)]
        rows = np.frombuffer(buf, dtype=np.uint8, count=(cnt - 1) * stride + isz * nc, offset=start) if cnt else np.zeros(0, np.uint8)
        for k in range(nc):
            idx = np.arange(cnt) * stride + k * isz
            out[:, k] = np.frombuffer(np.stack([rows[idx + b] for b in range(isz)], 1).tobytes(), dtype=dt) if cnt else []
        if a.get("normalized"):
            out /= np.iinfo(dt).max
    if "sparse" in a:
        raise NotImplementedError
    return out

def quat_mat(q):
    x, y, z, w = q
    return np.array([[1-2*(y*y+z*z), 2*(x*y-z*w), 2*(x*z+y*w)],
                     [2*(x*y+z*w), 1-2*(x*x+z*z), 2*(y*z-x*w)],
                     [2*(x*z-y*w), 2*(y*z+x*w), 1-2*(x*x+y*y)]])

def trs(t, r, s):
    m = np.eye(4); m[:3, :3] = quat_mat(r) @ np.diag(s); m[:3, 3] = t; return m

def sample(times, vals, t, path, interp):
    if t <= times[0]: return vals[0]
    if t >= times[-1]: return vals[-1]
    k = np.searchsorted(times, t) - 1
    if interp == "STEP": return vals[k]
    u = (t - times[k]) / (times[k+1] - times[k])
    a, b = vals[k], vals[k+1]
    if path == "rotation":
        if np.dot(a, b) < 0: b = -b
        q = (1-u)*a + u*b; return q / np.linalg.norm(q)
    return (1-u)*a + u*b

NORMALISE = "--normalise" in sys.argv


def evaluate(path, anim_name, t):
    doc, binc = load(path)
    nodes = doc["nodes"]
    local = {}
    for i, n in enumerate(nodes):
        local[i] = [np.array(n.get("translation", [0,0,0]), float), np.array(n.get("rotation", [0,0,0,1]), float), np.array(n.get("scale", [1,1,1]), float)]
    if anim_name is not None:
        anims = doc["animations"]
        anim = anims[anim_name] if isinstance(anim_name, int) else next(a for a in anims if a.get("name") == anim_name)
        for ch in anim["channels"]:
            smp = anim["samplers"][ch["sampler"]]
            path_ = ch["target"]["path"]
            if path_ == "weights": continue
            times = accessor(doc, binc, smp["input"])[:, 0]
            vals = accessor(doc, binc, smp["output"])
            interp = smp.get("interpolation", "LINEAR")
            if interp == "CUBICSPLINE": vals = vals[1::3]
            idx = {"translation": 0, "rotation": 1, "scale": 2}[path_]
            local[ch["target"]["node"]][idx] = sample(times, vals, t, path_, interp)
    parent = {}
    for i, n in enumerate(nodes):
        for c in n.get("children", []): parent[c] = i
    world = {}
    def w(i):
        if i in world: return world[i]
        m = trs(*local[i])
        if "matrix" in nodes[i]: m = np.array(nodes[i]["matrix"]).reshape(4, 4).T
        world[i] = (w(parent[i]) @ m) if i in parent else m
        return world[i]
    out = {}
    for i, n in enumerate(nodes):
        if "mesh" not in n: continue
        pts = []
        for prim in doc["meshes"][n["mesh"]]["primitives"]:
            p = accessor(doc, binc, prim["attributes"]["POSITION"])
            ph = np.c_[p, np.ones(len(p))]
            if "skin" in n and "JOINTS_0" in prim["attributes"]:
                skin = doc["skins"][n["skin"]]
                ibm = accessor(doc, binc, skin["inverseBindMatrices"]).reshape(-1, 4, 4).transpose(0, 2, 1)
                mats = np.array([w(j) @ ibm[k] for k, j in enumerate(skin["joints"])])
                J = accessor(doc, binc, prim["attributes"]["JOINTS_0"]).astype(int)
                W = accessor(doc, binc, prim["attributes"]["WEIGHTS_0"])
                if NORMALISE:
                    W = W / np.maximum(W.sum(1, keepdims=True), 1e-12)
                q = np.zeros((len(p), 4))
                for c in range(4):
                    q += W[:, c:c+1] * np.einsum("nij,nj->ni", mats[J[:, c]], ph)
                pts.append(q[:, :3])
            else:
                pts.append((w(i) @ ph.T).T[:, :3])
        key = n.get("name", "mesh node")
        key = key if key not in out else f"{key} #{sum(k.startswith(key) for k in out) + 1}"
        out[key] = np.vstack(pts)
    return out

if __name__ == "__main__":
    sys.argv = [a for a in sys.argv if a != "--normalise"]
    path, anim, t = sys.argv[1], sys.argv[2], float(sys.argv[3])
    res = evaluate(path, None if anim == "-" else anim, t)
    allp = np.vstack(list(res.values()))
    diag = float(np.linalg.norm(allp.max(0) - allp.min(0)))
    print(f"{path}: {len(res)} mesh nodes, y {allp[:,1].min():.4f}..{allp[:,1].max():.4f}, diagonal {diag:.4f}")
    other = evaluate(sys.argv[4], None if anim == "-" else anim, t) if len(sys.argv) > 4 else None
    for k, v in res.items():
        line = f"  {k:20s} y {v[:,1].min():.4f}..{v[:,1].max():.4f}"
        if other is not None:
            o = other.get(k)
            if o is None or len(o) != len(v):
                line += "   (no node of that name and size in the other file)"
            else:
                line += f"   other file: {np.linalg.norm(o - v, axis=1).max() / diag:.2e} of the diagonal"
        print(line)
