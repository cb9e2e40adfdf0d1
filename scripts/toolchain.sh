# Sourced by the project's scripts: installs what they need, once.
# Each step skips itself when the right version is already present.
# Facts behind the pins: the README's "Toolchain notes" section.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false

WORKER_BUILD_VERSION="0.8.7"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen CLI must equal the library version that Cargo.lock pins.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  for component in rustfmt clippy; do
    rustup component list --installed | grep -q "^$component" || rustup component add "$component"
  done
}

# ensure_cargo_tool <binary> <version> <crate>
ensure_cargo_tool() {
  local bin="$1" version="$2" crate="$3"
  if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -qw "$version"; then
    return
  fi
  log "installing $crate $version (once; takes a few minutes)"
  # No --locked for wasm-bindgen-cli: its lockfile pins a crate the registry no longer serves.
  cargo install "$crate" --version "$version" --force
}

ensure_node_modules() {
  command -v npm >/dev/null || die "npm not found: install Node.js 20+"
  local want have=""
  want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  [[ -f "$ROOT/node_modules/.lock-sha256" ]] && have="$(cat "$ROOT/node_modules/.lock-sha256")"
  if [[ "$want" != "$have" ]]; then
    log "installing npm packages (wrangler, esbuild) from package-lock.json"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$ROOT/node_modules/.lock-sha256"
  fi
}

ensure_toolchain() {
  ensure_rust
  ensure_cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build
  ensure_cargo_tool wasm-bindgen "$(wasm_bindgen_version)" wasm-bindgen-cli
  ensure_node_modules
}

random_hex() { node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))'; }

# Writes .dev.vars with fresh random secrets, unless one exists.
ensure_dev_vars() {
  local file="$ROOT/.dev.vars"
  [[ -f "$file" ]] && return
  log "writing .dev.vars with fresh random secrets (git-ignored)"
  umask 077
  cat > "$file" <<VARS
INTERNAL_API_KEY=$(random_hex)
INGEST_HMAC_SECRET=$(random_hex)
EMAIL_FINGERPRINT_KEY=$(random_hex)
VARS
}

# Applies migrations to a local D1 (default .wrangler/state, or the dir given).
apply_local_migrations() {
  local persist=()
  [[ $# -gt 0 ]] && persist=(--persist-to "$1")
  (cd "$ROOT" && wrangler d1 migrations apply DB --local "${persist[@]}" >/dev/null)
}

# Debian's Chromium for the console's browser tests (playwright-core drives it;
# `npx playwright install` would try to download a browser and fail offline).
CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
# fonts-noto-cjk: the console is Korean first; without it screenshots show boxes.
ensure_chromium() {
  [ -x "$CHROMIUM_BIN" ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" && return 0
  log "installing Debian chromium and CJK fonts (browser tests)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local pkgs=(chromium fonts-noto-cjk)
  $sudo apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; }
}
