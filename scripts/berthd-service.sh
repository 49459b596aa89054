#!/usr/bin/env bash
# berthd as a supervised background daemon, for machines where systemd is not PID 1 (a container,
# a chroot, a CI runner); where it is, scripts/berthd.service does the same job. berthd supervises
# its own berth-containerd; this supervises berthd: a small shell loop, detached from the terminal
# (setsid), that runs berthd with its output appended to a log file and starts it again when it
# dies (kill -9, a crash: containers never notice, berthd adopts its berth-containerd and its
# tasks), after 1 s doubling to 30 s; five quick deaths in a row, or a first start that fails, end
# the supervisor with the reason in the log. A berthd that exits 0 (SIGTERM) is not restarted.
#
#   scripts/berthd-service.sh start|stop|restart|status
#
# start is idempotent: a running supervisor is left alone (flock against two starts at once); a
# pid file that names no supervisor (stale: its process died, or the pid was reused) is replaced.
# start returns once berthd answers /_ping, or fails with the log's last lines.
# Environment (tests point all of it at a private dir):
#   BERTHD          the berthd command (default /usr/local/bin/berthd)
#   BERTHD_ARGS     extra flags for berthd, split on spaces (default none: /etc/berth/daemon.json
#                   and berthd's defaults decide; a flag that daemon.json also sets would be refused)
#   BERTHD_SOCKET   the API socket to wait for (default /run/berth/berth.sock)
#   BERTHD_RUN_DIR  the supervisor's pid file and lock (default /run/berth)
#   BERTHD_LOG      berthd's log (default /var/log/berth/berthd.log; moved to .1 past 16 MiB)
set -euo pipefail

berthd=${BERTHD:-/usr/local/bin/berthd}
socket=${BERTHD_SOCKET:-/run/berth/berth.sock}
run_dir=${BERTHD_RUN_DIR:-/run/berth}
log=${BERTHD_LOG:-/var/log/berth/berthd.log}
pidfile=$run_dir/berthd-supervisor.pid
self=$(readlink -f "$0")
# Back-off and limits of the supervisor loop (seconds).
first_backoff=1 max_backoff=30 quick_run=10 quick_limit=5 log_max_bytes=$((16 << 20))

say() { printf 'berthd-service: %s\n' "$*"; }
stamp() { printf '%s berthd-service: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"; }

# The Node berthd runs on (its bundle's shebang, `#!NODE` or `#!/usr/bin/env -S NODE FLAGS...`), for
# the /_ping probe: no curl needed.
node_bin() { head -1 "$(readlink -f "$berthd")" | sed -nE 's/^#!(\/usr\/bin\/env -S )?//p' | cut -d' ' -f1; }

ping_ok() {
  [ -S "$socket" ] || return 1
  "$(node_bin)" -e '
    const req = require("node:http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 2000 },
      (r) => process.exit(r.statusCode === 200 ? 0 : 1));
    req.on("error", () => process.exit(1));
    req.on("timeout", () => process.exit(1));' "$socket" 2>/dev/null
}

# The supervisor's pid when the pid file names a live supervisor of this script, else nothing.
live_supervisor() {
  local pid
  pid=$(head -c 16 "$pidfile" 2>/dev/null | tr -dc 0-9) || true
  [ -n "$pid" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "berthd-service.sh supervise" || return 1
  echo "$pid"
}

# berthd's pid: the supervisor's child.
berthd_pid() {
  local sup=$1
  cat "/proc/$sup/task/$sup/children" 2>/dev/null | awk '{print $1}'
}

rotate_log() {
  local size
  size=$(stat -c %s "$log" 2>/dev/null || echo 0)
  if [ "$size" -gt "$log_max_bytes" ]; then mv -f "$log" "$log.1"; fi
}

supervise() {
  echo $$ >"$pidfile.tmp" && mv -f "$pidfile.tmp" "$pidfile"
  local child="" stopping="" backoff=$first_backoff quick=0 first=1 started code offset
  # stop: SIGTERM to berthd (which stops its berth-containerd; containers run on), then leave.
  trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true' TERM INT
  trap '' HUP
  while [ -z "$stopping" ]; do
    rotate_log
    stamp "starting $berthd ${BERTHD_ARGS:-}"
    offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
    started=$(date +%s)
    # shellcheck disable=SC2086 # BERTHD_ARGS is a list of flags
    "$berthd" ${BERTHD_ARGS:-} </dev/null >>"$log" 2>&1 &
    child=$!
    code=0
    wait "$child" || code=$?
    # A trapped signal ends `wait` early: wait on until berthd itself has gone.
    while kill -0 "$child" 2>/dev/null; do wait "$child" || code=$?; done
    child=""
    [ -z "$stopping" ] || break
    if [ "$code" -eq 0 ]; then
      stamp "berthd exited 0 (stopped from outside): not restarting"
      break
    fi
    # Until berthd has once come up, a failure is a configuration or installation error: retrying
    # would only repeat it (start reports it from this log).
    if tail -c +$((offset + 1)) "$log" | grep -q "berthd has completed initialization"; then first=""; fi
    if [ -n "$first" ]; then
      stamp "berthd failed to start (exit $code): giving up; see the lines above"
      break
    fi
    if [ $(($(date +%s) - started)) -lt $quick_run ]; then quick=$((quick + 1)); else quick=0 backoff=$first_backoff; fi
    if [ "$quick" -ge $quick_limit ]; then
      stamp "berthd exited $quick times within ${quick_run} s of its start (last exit $code): giving up"
      break
    fi
    stamp "berthd exited ($code): starting it again in ${backoff} s"
    sleep "$backoff" &
    wait $! || true
    backoff=$((backoff * 2 > max_backoff ? max_backoff : backoff * 2))
  done
  # Only our own pid file goes: a newer supervisor may own it by now.
  [ "$(cat "$pidfile" 2>/dev/null)" != "$$" ] || rm -f "$pidfile"
}

start() {
  mkdir -p "$run_dir" "$(dirname "$log")"
  exec 9>"$run_dir/berthd-service.lock"
  flock 9
  local sup
  if sup=$(live_supervisor); then
    say "berthd is already running (supervisor $sup, berthd $(berthd_pid "$sup"))"
    return 0
  fi
  if [ -e "$pidfile" ]; then say "removing a stale pid file ($pidfile)"; rm -f "$pidfile"; fi
  if ping_ok; then
    say "a berthd not started by this script answers on $socket: leaving it alone"
    return 0
  fi
  setsid "$BASH" "$self" supervise </dev/null >>"$log" 2>&1 9>&- &
  local launched=$! i
  for ((i = 0; i < 600; i++)); do
    if ping_ok; then
      sup=$(live_supervisor) || sup=$launched
      say "berthd is running (supervisor $sup, berthd $(berthd_pid "$sup"); socket $socket; log $log)"
      return 0
    fi
    if ! kill -0 "$launched" 2>/dev/null; then break; fi
    sleep 0.1
  done
  say "berthd did not come up; the end of $log:" >&2
  tail -n 20 "$log" >&2 || true
  kill -TERM "$launched" 2>/dev/null || true
  return 1
}

stop() {
  local sup i
  if ! sup=$(live_supervisor); then
    say "berthd is not running (no supervisor)"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$sup"
  # berthd stops within ~10 s (berth-containerd gets SIGTERM, SIGKILL after 10 s).
  for ((i = 0; i < 300; i++)); do
    [ -e "/proc/$sup" ] || { say "berthd stopped"; return 0; }
    sleep 0.1
  done
  say "the supervisor ($sup) did not stop within 30 s" >&2
  return 1
}

status() {
  local sup
  if sup=$(live_supervisor); then
    if ping_ok; then
      say "running (supervisor $sup, berthd $(berthd_pid "$sup"); socket $socket)"
    else
      say "starting or restarting (supervisor $sup); socket $socket does not answer yet"
    fi
    return 0
  fi
  say "not running"
  return 3
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  status) status ;;
  supervise) supervise ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
