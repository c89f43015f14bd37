#!/usr/bin/env python3
"""Check one FBX file Rigsmith wrote with assimp and with Autodesk's FBX SDK.

    scripts/fbx_readers_check.py FILE.fbx

assimp (../shared/validators/assimp_inspect.py) must list every deforming joint as a bone with
the same parent as `rigsmith inspect` reports, and every clip by name with its duration; the
FBX SDK (fbx_check.mjs through FBX2glTF) must find the skin and give a glTF that passes the
Khronos validator, and FBX2glTF's verbose log must list every clip by name with its frame range
(FBX2glTF then drops clips whose keys never leave the rest pose, so the glTF's animation count
is not the measure). Prints one line; exits 1 on a mismatch.
"""
import json, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATORS = os.environ.get("VALIDATORS_DIR", os.path.join(HERE, "..", "..", "shared", "validators"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target"))
RIGSMITH = os.environ.get("RIGSMITH", os.path.join(TARGET, "debug", "rigsmith"))
FPS = 24.0  # the frame rate Rigsmith's FBX declares (TimeMode eFrames24)


def clip_problems(reader, ours, seen, drops_single_pose=False):
    """`seen`: clip name -> duration in seconds as the reader reports it. assimp drops a clip
    whose keys all sit at one instant (Godot's single-pose "RESET"), whatever the stack's span."""
    out = []
    for c in ours:
        want = c["end_secs"] - c["start_secs"]
        got = seen.get(c["name"])
        if got is None and drops_single_pose and want == 0.0:
            continue
        if got is None:
            out.append(f"{reader} lacks clip {c['name']!r}")
        elif abs(got - want) > 1.5 / FPS:  # readers round the end to a frame either way
            out.append(f"{reader}: clip {c['name']!r} lasts {got:.3f} s, we wrote {want:.3f} s")
    return out[:3]


def assimp_tree(path):
    """Bones (with their node parents) and animations straight from `assimp export -fassjson`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "scene.json")
        subprocess.run(["assimp", "export", path, out, "-fassjson"], capture_output=True, check=True)
        scene = json.load(open(out))
    bones = {b["name"] for m in scene.get("meshes", []) for b in m.get("bones", [])}
    found, stack = [], [(scene["rootnode"], None)]
    while stack:
        node, parent = stack.pop()
        if node["name"] in bones and parent is not None:
            found.append({"name": node["name"], "node_parent": parent})
        stack += [(c, node["name"]) for c in node.get("children", [])]
    anims = [{"name": a.get("name"), "duration_ticks": a.get("duration"), "ticks_per_second": a.get("tickspersecond")}
             for a in scene.get("animations", [])]
    return {"bones": found, "animations": anims}


def sdk_clips(path):
    """Clip name -> duration as the FBX SDK reports it (FBX2glTF -v: 'Animation NAME: [A - B]', frames)."""
    exe = os.environ.get("FBX2GLTF")
    if not exe:
        raise RuntimeError("FBX2GLTF is not set: source ../shared/validators/env.sh")
    with tempfile.TemporaryDirectory() as tmp:
        log = subprocess.run([exe, "-v", "--binary", "-i", path, "-o", os.path.join(tmp, "out")], capture_output=True, text=True).stdout
    return {m.group(1): (float(m.group(3)) - float(m.group(2))) / FPS
            for m in re.finditer(r"^Animation (.*): \[(-?[0-9.]+) - (-?[0-9.]+)\]$", log, re.M)}


def main():
    path = sys.argv[1]
    ours = json.loads(subprocess.run([RIGSMITH, "inspect", "--json", path], capture_output=True, text=True, check=True).stdout)
    skel = ours["skeleton"]
    parent = {j["name"]: (skel[j["parent"]]["name"] if j["parent"] is not None else None) for j in skel}
    deforming = [j["name"] for j in skel if j["deform"] and j["weighted_vertices"] > 0]
    problems = []
    err = ""
    try:
        a = subprocess.run(["python3", os.path.join(VALIDATORS, "assimp_inspect.py"), path], capture_output=True, text=True, timeout=180)
        err = a.stderr
        doc = json.loads(a.stdout)
    except (subprocess.TimeoutExpired, ValueError):
        # assimp_inspect.py keys nodes by name; a joint named "RootNode" (as assimp names the
        # scene root) sends its parent walk round in a loop. Walk assimp's own tree instead.
        doc = assimp_tree(path)
    try:
        bones = {b["name"]: b for b in doc["bones"]}
        missing = [n for n in deforming if n not in bones]
        wrong = [n for n in deforming if n in bones and bones[n]["node_parent"] != parent[n] and parent[n] is not None]
        if missing:
            problems.append(f"assimp lacks bones {missing[:4]}")
        if wrong:
            problems.append(f"assimp parents differ for {wrong[:4]}")
        problems += clip_problems("assimp", ours["clips"], {a["name"]: a["duration_ticks"] / (a["ticks_per_second"] or FPS) for a in doc["animations"]}, True)
    except (ValueError, KeyError) as e:
        problems.append(f"assimp failed: {e} {err[-300:]}")
    problems += clip_problems("FBX SDK", ours["clips"], sdk_clips(path))
    cmd = ["node", os.path.join(VALIDATORS, "fbx_check.mjs"), path, "--expect-skin"]
    sdk = subprocess.run(cmd, capture_output=True, text=True)
    try:
        report = json.loads(sdk.stdout)
        problems += [f"FBX SDK: {p}" for p in report["problems"]]
    except ValueError:
        problems.append(f"FBX SDK check failed: {sdk.stderr[-300:]}")
    name = os.path.basename(path)
    if problems:
        print(f"FAIL {name}: " + "; ".join(problems))
        sys.exit(1)
    print(f"ok   {name:28s} assimp: {len(deforming)} bones, parents match, {len(ours['clips'])} clips; FBX SDK: skin, valid glTF, {len(ours['clips'])} clips")


if __name__ == "__main__":
    main()
