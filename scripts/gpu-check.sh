#!/usr/bin/env bash
# The GPU check: on a machine with a GPU (NVIDIA, Linux x64), runs the real-size random Whisper-small and
# HuBERT-base encoders at layers 6 and 12 and their SAEs over 10 minutes of audio on every execution provider
# that works there (CUDA, WebGPU on Vulkan) and on the CPU, checks the GPU outputs against the CPU's (relative
# error <= 1e-3, float32) and prints one table: provider, model, layer, time, realtime factor, speed-up over the
# CPU, max error. Rows print as they complete; if the run is cut short (signal, time limit) the rows done are
# printed again. Each provider that is skipped says why in one line.
# Everything comes from FOLDER (made by scripts/gpu-check/prepare.sh on a machine with Node and the npm
# registry) plus python3 with torch and numpy on this machine, which makes the random weights here.
# Usage: scripts/gpu-check.sh [FOLDER] [--minutes N] [--budget S] [--providers cuda,webgpu] [--work DIR]
#   Without FOLDER (in a checkout): prepares one in ${TMPDIR:-/tmp}/audiosae-gpu-check-carry first.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FOLDER=""
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then FOLDER="$1"; shift; fi
MINUTES=10 BUDGET=230 PROVIDERS="" WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --providers) PROVIDERS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
START=$(date +%s)
say() { printf '[gpu-check %3ds] %s\n' "$(($(date +%s) - START))" "$*"; }

if [ -z "$FOLDER" ]; then
  FOLDER="${TMPDIR:-/tmp}/audiosae-gpu-check-carry"
  say "no folder given: preparing $FOLDER"
  bash "$HERE/gpu-check/prepare.sh" "$FOLDER" >/dev/null || exit 1
fi
FOLDER="$(cd "$FOLDER" && pwd)"
for f in node.tar.xz app.tar.xz; do [ -f "$FOLDER/$f" ] || { echo "$FOLDER/$f is missing: make the folder with scripts/gpu-check/prepare.sh" >&2; exit 2; }; done
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import torch, numpy' 2>/dev/null || { echo "$PYTHON with torch and numpy is needed to make the random weights" >&2; exit 2; }

[ -n "$WORK" ] || WORK="$(mktemp -d /tmp/audiosae-gpu-check.XXXXXX)"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
ROWS="$WORK/rows.txt"
: >"$ROWS"
CHILD=""
finish() {
  local why="$1"
  [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD" 2>/dev/null
  if [ "$why" != done ]; then
    echo
    say "cut short ($why); the rows completed so far:"
    cat "$ROWS"
  fi
}
trap 'finish INT; exit 130' INT
trap 'finish TERM; exit 143' TERM
trap 'finish HUP; exit 129' HUP

say "unpacking $FOLDER into $WORK"
mkdir -p "$WORK/node" "$WORK/app" "$WORK/sys"
tar -xJf "$FOLDER/node.tar.xz" -C "$WORK/node" && tar -xJf "$FOLDER/app.tar.xz" -C "$WORK/app" || { say "unpacking failed"; exit 1; }
for deb in "$FOLDER"/debs/*.deb; do [ -f "$deb" ] && dpkg -x "$deb" "$WORK/sys"; done
ORT_BIN="$WORK/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
if [ -d "$FOLDER/cuda" ]; then
  for f in "$FOLDER"/cuda/*.xz; do xz -dc "$f" >"$ORT_BIN/$(basename "$f" .xz)"; done
  say "CUDA: onnxruntime's CUDA provider libraries unpacked from the folder"
elif [ -n "${AUDIOSAE_CUDA_PROVIDER_DIR:-}" ] && [ -f "$AUDIOSAE_CUDA_PROVIDER_DIR/libonnxruntime_providers_cuda.so" ]; then
  cp "$AUDIOSAE_CUDA_PROVIDER_DIR"/libonnxruntime_providers_{cuda,shared}.so "$ORT_BIN/"
  say "CUDA: onnxruntime's CUDA provider libraries from AUDIOSAE_CUDA_PROVIDER_DIR"
else
  say "CUDA: will be skipped: onnxruntime's CUDA provider libraries are not in the folder ($(grep '^cuda:' "$FOLDER/MANIFEST.txt" 2>/dev/null | sed 's/^cuda: //' || echo 'see MANIFEST.txt')); set AUDIOSAE_CUDA_PROVIDER_DIR to a folder holding them to include CUDA"
fi

# Library path: the carried Vulkan loader, then CUDA/cuDNN from torch's pip wheels and the usual CUDA places.
LIBS="$WORK/sys/usr/lib/x86_64-linux-gnu"
TORCH_LIBS="$("$PYTHON" - <<'EOF' 2>/dev/null
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
import torch
roots.append(os.path.join(os.path.dirname(torch.__file__), 'lib'))
print(':'.join(d for r in roots for d in sorted(glob.glob(os.path.join(r, '*', 'lib')) + [r]) if glob.glob(os.path.join(d, 'lib*.so*'))))
EOF
)"
[ -n "$TORCH_LIBS" ] && LIBS="$LIBS:$TORCH_LIBS"
for d in /usr/local/cuda/lib64 /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu; do [ -d "$d" ] && LIBS="$LIBS:$d"; done
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Vulkan driver: the standard manifest places, NVIDIA's container place, or a manifest written for the
# driver's libGLX_nvidia.so.0 when the driver is there but its manifest is not.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  found="$(ls /etc/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json 2>/dev/null | head -1)"
  if [ -z "$found" ]; then
    for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
      [ -f "$f" ] && { export VK_DRIVER_FILES="$f"; found="$f"; break; }
    done
  fi
  if [ -z "$found" ] && { ldconfig -p 2>/dev/null | grep -q libGLX_nvidia.so.0 || ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/local/nvidia/lib64/libGLX_nvidia.so.0 >/dev/null 2>&1; }; then
    mkdir -p "$WORK/icd"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3.0"}}\n' >"$WORK/icd/nvidia_icd.json"
    export VK_DRIVER_FILES="$WORK/icd/nvidia_icd.json"
    found="$VK_DRIVER_FILES (written for libGLX_nvidia.so.0)"
  fi
  say "Vulkan driver manifest: ${found:-none found (WebGPU will say why it is skipped)}"
fi
command -v nvidia-smi >/dev/null && say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"

say "making real-size random weights with $PYTHON (torch $("$PYTHON" -c 'import torch; print(torch.__version__)'))"
"$PYTHON" "$WORK/app/make_models.py" "$WORK/models" 6,12 &
CHILD=$!
wait "$CHILD" || { say "making the weights failed"; exit 1; }
CHILD=""

LEFT=$((BUDGET - ($(date +%s) - START)))
[ "$LEFT" -gt 30 ] || LEFT=30
say "running the check (runs start for ${LEFT} s more)"
"$WORK/node/bin/node" "$WORK/app/check.cjs" --models "$WORK/models" --work "$WORK/run" --minutes "$MINUTES" \
  --budget "$LEFT" --rows "$ROWS" ${PROVIDERS:+--providers "$PROVIDERS"} &
CHILD=$!
wait "$CHILD"
rc=$?
CHILD=""
finish done
say "finished (exit $rc); work folder $WORK"
exit "$rc"
