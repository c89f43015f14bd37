#!/usr/bin/env bash
# The batch files of docs/batch run as a cluster would run them, here: the Slurm array script
# (checked by bash -n) for tasks 0-3, and the Kubernetes Indexed Job's container command
# (parsed from the YAML) for completion indexes 0-3, each over the bundled samples into its
# own folder; `rigsmith merge-manifests` joins each; every GLB must equal a single run's.
# Usage: scripts/check_batch.sh   (RIGSMITH: the binary; default $CARGO_TARGET_DIR/debug/rigsmith)
set -euo pipefail
cd "$(dirname "$0")/.."
RIGSMITH="${RIGSMITH:-${CARGO_TARGET_DIR:-$HOME/.cache/rigsmith-target}/debug/rigsmith}"
BIN="$(mktemp -d)"; ln -s "$(readlink -f "$RIGSMITH")" "$BIN/rigsmith"; export PATH="$BIN:$PATH"
T="$(mktemp -d)"; trap 'rm -rf "$T" "$BIN"' EXIT
IN="$(pwd)/assets/samples"

bash -n docs/batch/rig-array.slurm
echo "slurm script: bash -n ok"
python3 - docs/batch/rig-indexed-job.yaml docs/batch/rig-merge-job.yaml > "$T/k8s.sh" <<'PY'
import re, shlex, sys, yaml
rig, merge = (list(yaml.safe_load_all(open(p))) for p in sys.argv[1:3])
job = rig[0]
assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed", "not an Indexed Job"
n = job["spec"]["completions"]
rig_cmd = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
m = re.search(r'--shard "\$\{JOB_COMPLETION_INDEX\}/(\d+)"', rig_cmd)
assert m and int(m.group(1)) == n, f"--shard N ({m and m.group(1)}) differs from completions ({n})"
merge_cmd = merge[0]["spec"]["template"]["spec"]["containers"][0]["args"][0]
print(f"N={n}")
print("rig_cmd=" + shlex.quote(rig_cmd))
print("merge_cmd=" + shlex.quote(merge_cmd))
PY
. "$T/k8s.sh"
echo "kubernetes job: parsed, Indexed, $N completions, --shard I/$N"

"$RIGSMITH" rig --input "$IN" --output "$T/single" 2>/dev/null
for i in 0 1 2 3; do
  INPUT="$IN" OUTPUT="$T/slurm" SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=4 RIGSMITH="$RIGSMITH" bash docs/batch/rig-array.slurm 2>/dev/null
done
"$RIGSMITH" merge-manifests "$T/slurm"
mkdir -p "$T/data"; ln -s "$IN" "$T/data/characters"
for i in $(seq 0 $((N - 1))); do
  JOB_COMPLETION_INDEX=$i sh -c "${rig_cmd//\/data/$T/data}" 2>/dev/null
done
sh -c "${merge_cmd//\/data/$T/data}"
status=0
for d in slurm data/rigged; do
  n=0
  for f in "$T/single"/*.glb "$T/single"/*/*.glb; do
    [ -e "$f" ] || continue
    rel="${f#"$T/single"/}"; n=$((n + 1))
    cmp -s "$f" "$T/$d/$rel" || { echo "FAIL: $d/$rel differs from the single run"; status=1; }
  done
  echo "$d: $n files compared with the single run"
done
[ $status = 0 ] && echo "PASS: shards over Slurm and Kubernetes write what one run writes"
exit $status
