# Shared set-up for scripts/run and scripts/test; source it, then call bootstrap [dev].
# Installs missing system packages (when root or passwordless sudo; otherwise says what to install),
# creates .venv, installs the pinned requirements when they changed, and compiles the translations.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

log() { printf '==> %s\n' "$*" >&2; }

# package:command-that-proves-it-is-installed
# icecast2: the stream server live announcements feed (scripts/run starts one for the demo), and the tests' own
RUN_PACKAGES=("espeak-ng:espeak-ng" "ffmpeg:ffprobe" "icecast2:/usr/bin/icecast2")
TEST_PACKAGES=("openssh-server:/usr/sbin/sshd" "openssh-client:scp" "chromium:chromium")

_missing_packages() {
  local entry pkg probe
  for entry in "$@"; do
    pkg="${entry%%:*}"; probe="${entry#*:}"
    if [[ "$probe" == /* ]]; then [[ -x "$probe" ]] || echo "$pkg"
    else command -v "$probe" >/dev/null 2>&1 || echo "$pkg"; fi
  done
}

install_system_packages() {
  local missing
  mapfile -t missing < <(_missing_packages "$@")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n)
    else
      log "Missing system packages: ${missing[*]}"
      log "Install them, then run this again:  sudo apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "Missing system packages: ${missing[*]} (no apt-get here: install them with your package manager)"
    exit 1
  fi
  log "Installing system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

_ensure_venv() {
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "Creating $VENV"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      install_system_packages "python3-venv:/usr/lib/python3/dist-packages/ensurepip/__init__.py"
      "$PY" -m venv "$VENV"
    fi
  fi
}

_install_requirements() {
  local file="$1" stamp="$VENV/.installed-$(basename "$1")" sum
  sum=$(cat "$ROOT/requirements.txt" "$file" | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then return 0; fi
  log "Installing Python requirements from $(basename "$file")"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$file"
  echo "$sum" > "$stamp"
}

bootstrap() {
  local mode="${1:-run}"
  if [[ "$mode" == dev ]]; then install_system_packages "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  else install_system_packages "${RUN_PACKAGES[@]}"; fi
  _ensure_venv
  if [[ "$mode" == dev ]]; then _install_requirements "$ROOT/requirements-dev.txt"
  else _install_requirements "$ROOT/requirements.txt"; fi
  "$VENV/bin/pybabel" compile -q -d "$ROOT/broadcast/translations" 2>/dev/null \
    || "$VENV/bin/pybabel" compile -d "$ROOT/broadcast/translations"
  export PATH="$VENV/bin:$PATH"
  cd "$ROOT"
}
