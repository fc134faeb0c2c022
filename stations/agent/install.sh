#!/bin/sh
# Install the commune radio station agent on a station box (Debian, Ubuntu, Raspberry Pi OS).
#
#   sudo stations/agent/install.sh                 # the full install: code, venv, wrapper, user, folders, unit
#   stations/agent/install.sh --prefix /tmp/ra --bin-dir /tmp/ra/bin --no-system   # code, venv, wrapper only
#
# What it does:
#   1. copies the `stations` package (the manifest format and the agent, nothing of the server) to PREFIX/lib;
#   2. creates the virtual environment PREFIX/venv from stations/requirements.txt (pinned);
#   3. writes BIN_DIR/radio-agent, which runs `python -m stations.agent` from there;
#   4. unless --no-system (needs root): creates the system user radio-agent (in group audio), the folder
#      /var/lib/radio-agent, an example /etc/radio-agent/station.toml (kept if one exists), and installs
#      radio-agent.service into /etc/systemd/system. With --push-user NAME it also creates the SSH push user
#      and its inbox /var/lib/radio-agent/inbox (the agent reads it, the push writes it).
# It neither enables nor starts the service: fill in station.toml first (see docs/station-agent.md).
# Safe to run again (an upgrade): the configuration and the data are kept.
set -eu

PREFIX=/opt/radio-agent
BIN_DIR=/usr/local/bin
PYTHON=python3
SYSTEM=yes
PUSH_USER=
AGENT_USER=radio-agent
STATE_DIR=/var/lib/radio-agent
CONFIG_DIR=/etc/radio-agent

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --python) PYTHON=$2; shift 2 ;;
    --no-system) SYSTEM=no; shift ;;
    --push-user) PUSH_USER=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE=$(dirname "$HERE")   # the `stations` package folder

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install.sh: the agent needs Python 3.11 or newer as $PYTHON (apt-get install python3 python3-venv)" >&2
  exit 1
fi
if [ "$SYSTEM" = yes ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root for the full install, or pass --no-system (and a --prefix you can write)" >&2
  exit 1
fi

echo "== code -> $PREFIX/lib/stations"
mkdir -p "$PREFIX/lib"
staging="$PREFIX/lib/.stations.new"
rm -rf "$staging"
mkdir -p "$staging"
# Only what a station runs: the package marker, the manifest format with its schema, and the agent.
cp "$SOURCE/__init__.py" "$SOURCE/manifest.schema.json" "$SOURCE/requirements.txt" "$staging/"
cp -R "$SOURCE/manifest" "$SOURCE/agent" "$staging/"
find "$staging" -name __pycache__ -type d -prune -exec rm -rf {} +
rm -rf "$PREFIX/lib/stations.old"
if [ -d "$PREFIX/lib/stations" ]; then mv "$PREFIX/lib/stations" "$PREFIX/lib/stations.old"; fi
mv "$staging" "$PREFIX/lib/stations"
rm -rf "$PREFIX/lib/stations.old"

echo "== virtual environment -> $PREFIX/venv"
if [ ! -x "$PREFIX/venv/bin/python" ]; then "$PYTHON" -m venv "$PREFIX/venv"; fi
"$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PREFIX/lib/stations/requirements.txt"

echo "== command -> $BIN_DIR/radio-agent"
mkdir -p "$BIN_DIR"
cat > "$BIN_DIR/.radio-agent.new" <<EOF
#!/bin/sh
# The commune radio station agent (installed by stations/agent/install.sh). radio-agent --help
PYTHONPATH="$PREFIX/lib" exec "$PREFIX/venv/bin/python" -m stations.agent "\$@"
EOF
chmod 755 "$BIN_DIR/.radio-agent.new"
mv "$BIN_DIR/.radio-agent.new" "$BIN_DIR/radio-agent"
"$BIN_DIR/radio-agent" --version

if [ "$SYSTEM" = no ]; then
  echo "done (--no-system: no user, folders or service were set up)"
  exit 0
fi

echo "== user $AGENT_USER, $STATE_DIR, $CONFIG_DIR"
if ! id "$AGENT_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$AGENT_USER"
fi
if getent group audio >/dev/null; then usermod -a -G audio "$AGENT_USER"; fi
install -d -o "$AGENT_USER" -g "$AGENT_USER" -m 0750 "$STATE_DIR"
install -d -o root -g "$AGENT_USER" -m 0750 "$CONFIG_DIR"
if [ ! -e "$CONFIG_DIR/station.toml" ]; then
  install -o root -g "$AGENT_USER" -m 0640 "$HERE/station.example.toml" "$CONFIG_DIR/station.toml"
  echo "   wrote $CONFIG_DIR/station.toml: fill in server_url, token and station"
fi

if [ -n "$PUSH_USER" ]; then
  echo "== SSH push user $PUSH_USER, inbox $STATE_DIR/inbox"
  if ! id "$PUSH_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$PUSH_USER"
  fi
  usermod -a -G "$AGENT_USER" "$PUSH_USER"  # to reach the inbox through the agent's 0750 folder
  # setgid: what the push writes belongs to the agent's group, which may read it and nothing more.
  install -d -o "$PUSH_USER" -g "$AGENT_USER" -m 2750 "$STATE_DIR/inbox"
  install -d -o "$PUSH_USER" -g "$AGENT_USER" -m 2750 "$STATE_DIR/inbox/audio"
  echo "   put the service's key (flask --app broadcast delivery ssh-key) into ~$PUSH_USER/.ssh/authorized_keys"
fi

echo "== systemd unit"
sed -e "s#/usr/local/bin/radio-agent#$BIN_DIR/radio-agent#g" "$HERE/radio-agent.service" \
  > /etc/systemd/system/radio-agent.service
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
echo "done. Next: edit $CONFIG_DIR/station.toml, then"
echo "   radio-agent --config $CONFIG_DIR/station.toml --check-config"
echo "   systemctl enable --now radio-agent"
