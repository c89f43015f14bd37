#!/usr/bin/env python3
"""Check one FBX file Rigsmith wrote with assimp and with Autodesk's FBX SDK.

    scripts/fbx_readers_check.py FILE.fbx

assimp (../shared/validators/assimp_inspect.py) must list every deforming joint as a bone with
the same parent as `rigsmith inspect` reports, and as many animations as the file has clips;
the FBX SDK (fbx_check.mjs through FBX2glTF) must find the skin and the clips. Prints one line;
exits 1 on a mismatch.
"""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATORS = os.environ.get("VALIDATORS_DIR", os.path.join(HERE, "..", "..", "shared", "validators"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rigsmith-target"))
RIGSMITH = os.environ.get("RIGSMITH", os.path.join(TARGET, "debug", "rigsmith"))


def main():
    path = sys.argv[1]
    ours = json.loads(subprocess.run([RIGSMITH, "inspect", "--json", path], capture_output=True, text=True, check=True).stdout)
    skel = ours["skeleton"]
    parent = {j["name"]: (skel[j["parent"]]["name"] if j["parent"] is not None else None) for j in skel}
    deforming = [j["name"] for j in skel if j["deform"] and j["weighted_vertices"] > 0]
    problems = []
    a = subprocess.run(["python3", os.path.join(VALIDATORS, "assimp_inspect.py"), path], capture_output=True, text=True)
    try:
        doc = json.loads(a.stdout)
        bones = {b["name"]: b for b in doc["bones"]}
        missing = [n for n in deforming if n not in bones]
        wrong = [n for n in deforming if n in bones and bones[n]["node_parent"] != parent[n] and parent[n] is not None]
        if missing:
            problems.append(f"assimp lacks bones {missing[:4]}")
        if wrong:
            problems.append(f"assimp parents differ for {wrong[:4]}")
        if len(doc["animations"]) != len(ours["clips"]):
            problems.append(f"assimp sees {len(doc['animations'])} animations, we wrote {len(ours['clips'])}")
    except (ValueError, KeyError) as e:
        problems.append(f"assimp failed: {e} {a.stderr[-300:]}")
    cmd = ["node", os.path.join(VALIDATORS, "fbx_check.mjs"), path, "--expect-skin", "--expect-animations", str(len(ours["clips"]))]
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
    print(f"ok   {name:28s} assimp: {len(deforming)} bones, parents match, {len(ours['clips'])} clips; FBX SDK: skin and {len(ours['clips'])} clips")


if __name__ == "__main__":
    main()
