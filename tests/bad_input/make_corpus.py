#!/usr/bin/env python3
"""Writes the malformed-input corpus next to this script, plus `valid_base.gltf`, the
well-formed file most cases are derived from, and EXPECTED.tsv: file -> a phrase the
error message must contain. Run it again after changing a case; commit its output."""
import base64, copy, json, os, struct

HERE = os.path.dirname(os.path.abspath(__file__))
cases = {}


def pack(fmt, rows):
    return b"".join(struct.pack("<" + fmt, *r) for r in rows)


def base_doc():
    pos = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 2, 0), (1, 2, 0)]
    idx = [(0, 1, 2), (0, 2, 3), (3, 2, 5), (3, 5, 4)]
    joints = [(0, 1, 0, 0)] * 6
    weights = [(1, 0, 0, 0), (1, 0, 0, 0), (0.5, 0.5, 0, 0), (0.5, 0.5, 0, 0), (0, 1, 0, 0), (0, 1, 0, 0)]
    ibm = [(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1), (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -1, 0, 1)]
    blobs = [pack("3f", pos), pack("3H", idx) + b"\0\0", pack("4B", joints), pack("4f", weights), pack("16f", ibm)]
    views, off = [], 0
    for b in blobs:
        views.append({"buffer": 0, "byteOffset": off, "byteLength": len(b)})
        off += len(b)
    data = b"".join(blobs)
    return {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0, 2]}],
        "nodes": [
            {"name": "root", "children": [1]},
            {"name": "tip", "translation": [0, 1, 0]},
            {"name": "body", "mesh": 0, "skin": 0},
        ],
        "meshes": [{"name": "strip", "primitives": [{"attributes": {"POSITION": 0, "JOINTS_0": 2, "WEIGHTS_0": 3}, "indices": 1}]}],
        "skins": [{"joints": [0, 1], "inverseBindMatrices": 4}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 6, "type": "VEC3", "min": [0, 0, 0], "max": [1, 2, 0]},
            {"bufferView": 1, "componentType": 5123, "count": 12, "type": "SCALAR"},
            {"bufferView": 2, "componentType": 5121, "count": 6, "type": "VEC4"},
            {"bufferView": 3, "componentType": 5126, "count": 6, "type": "VEC4"},
            {"bufferView": 4, "componentType": 5126, "count": 2, "type": "MAT4"},
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": len(data), "uri": "data:application/octet-stream;base64," + base64.b64encode(data).decode()}],
    }, data


def glb(doc, data):
    doc = copy.deepcopy(doc)
    del doc["buffers"][0]["uri"]
    j = json.dumps(doc).encode()
    j += b" " * (-len(j) % 4)
    d = data + b"\0" * (-len(data) % 4)
    body = struct.pack("<I4s", len(j), b"JSON") + j + struct.pack("<I4s", len(d), b"BIN\0") + d
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def case(name, expect, content):
    cases[name] = (expect, content)


def mutate(expect, name, fn):
    doc, data = base_doc()
    fn(doc)
    case(name, expect, json.dumps(doc).encode())


def set_buffer(doc, data):
    doc["buffers"][0] = {"byteLength": len(data), "uri": "data:application/octet-stream;base64," + base64.b64encode(data).decode()}


doc, data = base_doc()
good_glb = glb(doc, data)
case("truncated.glb", "GLB container", good_glb[: len(good_glb) // 2])
case("truncated_header.glb", "GLB container", good_glb[:10])
case("glb_length_underflow.glb", "too small", bytes([103, 108, 84, 70, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 84, 70, 2, 0, 0, 128, 192, 5]))  # found by fuzzing
case("glb_version_1.glb", "GLB container", good_glb[:4] + struct.pack("<I", 1) + good_glb[8:])
j = b'{"asset": {"version": "2.0"}, "nodes": [ {,} ]}   '
case("json_chunk_syntax.glb", "JSON is malformed", struct.pack("<4sII", b"glTF", 2, 20 + len(j)) + struct.pack("<I4s", len(j), b"JSON") + j)
case("json_chunk_length.glb", "GLB container", good_glb[:12] + struct.pack("<I", 10**9) + good_glb[16:])
case("not_an_object.gltf", "neither a GLB", b"[1, 2, 3]")
case("json_wrong_types.gltf", "JSON is malformed", b'{"asset": {"version": "2.0"}, "nodes": "many"}')
case("empty.gltf", "empty", b"")
case("garbage.glb", "neither a GLB", b"\x00\x01\x02 this is not a model")
mutate("out of range", "accessor_out_of_range.gltf", lambda d: d["accessors"][0].update(count=600))
mutate("runs past the end", "bufferview_past_buffer.gltf", lambda d: d["bufferViews"][0].update(byteLength=10**6))
mutate("only 2 joints", "joint_index_beyond_skin.gltf", lambda d: d["skins"][0].update(joints=[0, 1]) or d.update(_=0) or None)


def bad_joint(d):
    _, data = base_doc()
    data = bytearray(data)
    jv = d["bufferViews"][2]
    data[jv["byteOffset"] + 1] = 7  # vertex 0 second influence -> joint 7 (weight 0 in base)
    data[jv["byteOffset"]] = 9  # vertex 0 first influence (weight 1) -> joint 9
    set_buffer(d, bytes(data))
    d.pop("_", None)


mutate("only 2 joints", "joint_index_beyond_skin.gltf", bad_joint)


def poke_position(value):
    def f(d):
        _, data = base_doc()
        data = bytearray(data)
        data[4:8] = struct.pack("<f", value)
        set_buffer(d, bytes(data))
    return f


mutate("NaN or infinite position", "nan_position.gltf", poke_position(float("nan")))
mutate("NaN or infinite position", "inf_position.gltf", poke_position(float("inf")))


def flatten(d):
    _, data = base_doc()
    data = bytearray(data)
    for v in range(6):  # every vertex on the line y = 0: all triangles have zero area
        data[v * 12 + 4 : v * 12 + 8] = struct.pack("<f", 0.0)
    set_buffer(d, bytes(data))


mutate("degenerate", "zero_area_triangles.gltf", flatten)


def repeat_indices(d):
    _, data = base_doc()
    data = bytearray(data)
    off = d["bufferViews"][1]["byteOffset"]
    data[off : off + 24] = struct.pack("<12H", 0, 0, 1, 2, 2, 3, 3, 3, 5, 4, 4, 4)
    set_buffer(d, bytes(data))


mutate("degenerate", "degenerate_triangles.gltf", repeat_indices)
mutate("no triangle mesh", "empty_mesh.gltf", lambda d: [d.pop("meshes"), d["nodes"][2].pop("mesh")])
mutate("refusing to allocate", "absurd_count_no_view.gltf", lambda d: d["accessors"][0].update(bufferView=None, count=10**12) or d["accessors"][0].pop("bufferView"))
mutate("declares", "absurd_buffer_length.gltf", lambda d: d["buffers"][0].update(byteLength=10**15))
mutate("cycle", "cyclic_nodes.gltf", lambda d: d["nodes"][1].update(children=[0]))
mutate("two parents", "two_parents.gltf", lambda d: d["nodes"][2].update(children=[1]))
mutate("lists itself", "self_child.gltf", lambda d: d["nodes"][1].update(children=[1]))
mutate("missing external file", "missing_external_buffer.gltf", lambda d: d["buffers"][0].update(uri="does_not_exist.bin"))
mutate("KHR_draco_mesh_compression", "draco.gltf", lambda d: d.update(extensionsUsed=["KHR_draco_mesh_compression"], extensionsRequired=["KHR_draco_mesh_compression"]))
def far_index(d):
    _, data = base_doc()
    data = bytearray(data)
    off = d["bufferViews"][1]["byteOffset"]
    data[off + 4 : off + 6] = struct.pack("<H", 50)
    set_buffer(d, bytes(data))


mutate("index 50 is beyond its 6 vertices", "index_out_of_range.gltf", far_index)
mutate("node", "bad_child_index.gltf", lambda d: d["nodes"][0].update(children=[1, 99]))
mutate("no POSITION", "missing_position.gltf", lambda d: d["meshes"][0]["primitives"][0]["attributes"].pop("POSITION"))
mutate("glTF 2.0", "gltf_version_1.gltf", lambda d: d["asset"].update(version="1.0"))
mutate("inverse bind matrices", "too_few_ibms.gltf", lambda d: d["accessors"][4].update(count=1))
mutate("MAT4 was expected", "ibm_wrong_type.gltf", lambda d: d["accessors"][4].update(type="VEC4", count=8))
mutate("byteStride", "stride_too_small.gltf", lambda d: d["bufferViews"][0].update(byteStride=4))
mutate("skin", "bad_skin_index.gltf", lambda d: d["nodes"][2].update(skin=5))
mutate("accessor", "bad_accessor_index.gltf", lambda d: d["meshes"][0]["primitives"][0]["attributes"].update(POSITION=42))
mutate("sparse count", "sparse_count_too_big.gltf", lambda d: d["accessors"][0].update(sparse={"count": 100, "indices": {"bufferView": 1, "componentType": 5123}, "values": {"bufferView": 0}}))
case("bad_face.obj", "OBJ parse error", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n")
case("no_faces.obj", "no faces", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n")
case("unknown_joint_rig.txt", "has no `joints` line", b"joints a 0 0 0\nroot a\nskin 0 b 1.0\n")
case("unknown_joint.obj", "", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")  # mesh for the rig file above

with open(os.path.join(HERE, "valid_base.gltf"), "wb") as f:
    f.write(json.dumps(base_doc()[0]).encode())
with open(os.path.join(HERE, "EXPECTED.tsv"), "w") as f:
    f.write("file\terror_contains\n")
    for name, (expect, content) in sorted(cases.items()):
        with open(os.path.join(HERE, name), "wb") as g:
            g.write(content)
        if expect:
            f.write(f"{name}\t{expect}\n")
print(f"{sum(1 for e, _ in cases.values() if e)} malformed files written")
