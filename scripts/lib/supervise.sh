# supervise NAME COMMAND...: run COMMAND, and run it again whenever it ends, as systemd's Restart=always would:
# a scheduler that lost its lease exits with 75 on purpose, and a killed process must come back (a scheduler
# to stand by, a worker to take tasks). One that keeps failing at start (a port in use, a wrong setting) is
# given up after three tries in a row, and supervise exits with its status.
# Source this file (after bootstrap.sh, for `log`), start `supervise name cmd args... &` and keep its pid:
# a TERM or INT to that pid is passed on to the command, and supervise ends when the command has.
supervise() {
  local name="$1" child="" rc started quick=0
  shift
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    started=$SECONDS
    "$@" &
    child=$!
    rc=0
    wait "$child" || rc=$?
    if [ $((SECONDS - started)) -lt 5 ]; then quick=$((quick + 1)); else quick=0; fi
    if [ "$quick" -ge 3 ]; then
      log "$name failed three times at start (exit $rc): see its log"
      exit "$rc"
    fi
    log "$name exited with status $rc: restarting it"
    sleep 1
  done
}
