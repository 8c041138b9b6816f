#!/usr/bin/env bash
# stop-cluster.sh DIR [--purge] — stop the cluster that start-cluster.sh started in DIR.
# Cancels its jobs, waits for them to end, then stops slurmd, slurmctld and munged by the PIDs
# recorded in DIR/run (only if that PID still runs a command that names DIR), SIGKILL after a grace
# period. Leftover slurmstepd processes of this cluster (found by SLURM_CONF in their environment)
# are killed too. --purge removes DIR afterwards. Safe to call twice or on a half-started cluster.
set -uo pipefail

DIR=${1:?usage: stop-cluster.sh DIR [--purge]}
PURGE=${2:-}
export PATH="$PATH:/usr/sbin:/sbin"
log() { printf '[slurm-test] %s\n' "$*" >&2; }

[ -d "$DIR" ] || { log "no such directory: $DIR"; exit 0; }
DIR=$(cd "$DIR" && pwd -P)
CONF="$DIR/etc/slurm.conf"
export SLURM_CONF="$CONF"

ours() { # ours PID -> 0 if PID runs a process whose command line names $DIR
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$DIR/"
}
pid_of() { [ -s "$DIR/run/$1.pid" ] && cat "$DIR/run/$1.pid"; }
stop_all() { # stop_all NAME... : SIGTERM those daemons at once, wait up to 15 s, then SIGKILL
  local name pid i left
  local -A pids=()
  for name in "$@"; do
    pid=$(pid_of "$name" || true)
    [ -n "$pid" ] && ours "$pid" && kill -TERM "$pid" 2>/dev/null && pids[$name]=$pid
  done
  for i in $(seq 1 150); do
    left=0
    for name in "${!pids[@]}"; do
      if kill -0 "${pids[$name]}" 2>/dev/null; then left=1
      else log "$name (pid ${pids[$name]}) stopped"; unset "pids[$name]"; fi
    done
    [ $left = 0 ] && return 0
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    log "$name (pid ${pids[$name]}) ignored SIGTERM for 15 s; SIGKILL"
    kill -KILL "${pids[$name]}" 2>/dev/null || true
  done
}

ctld=$(pid_of slurmctld || true)
if [ -n "$ctld" ] && ours "$ctld" && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 150); do   # up to 15 s for running/completing jobs to go
      [ -z "$(squeue -h -t PD,R,CG,S,ST 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
fi

stop_all slurmd slurmctld munged

# slurmstepd outlives slurmd by design, and a job process can escape its step (see docs/cluster.md): kill
# only processes whose environment has SLURM_CONF=<this cluster's slurm.conf> and that are either a
# slurmstepd or a job process (SLURM_JOB_ID set); never this script or its callers.
protect=" $$ "
p=$$
while [ "$p" -gt 1 ] 2>/dev/null; do
  p=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $2}') || break
  [ -n "$p" ] || break
  protect="$protect$p "
done
for e in $(grep -lsxzF "SLURM_CONF=$CONF" /proc/[0-9]*/environ 2>/dev/null); do
  pid=${e#/proc/}; pid=${pid%/environ}
  case "$protect" in *" $pid "*) continue ;; esac
  if grep -qs slurmstepd "/proc/$pid/cmdline" || grep -qsz '^SLURM_JOB_ID=' "$e"; then
    log "killing leftover $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-60) (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
  fi
done

# proctrack/cgroup leaves empty slurm_<node> folders in the cgroup v1 hierarchies
if [ -f "$DIR/etc/cgroup.conf" ] && [ -f "$CONF" ]; then
  node=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' "$CONF")
  [ -n "$node" ] && for c in /sys/fs/cgroup/*/"slurm_$node"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
fi

rm -f "$DIR"/run/*.pid "$DIR"/munge/munge.socket "$DIR"/munge/munge.socket.lock
if [ -s "$DIR/etc/munge-socket-dir" ]; then   # the short socket folder in /tmp, if one was needed
  sd=$(cat "$DIR/etc/munge-socket-dir")
  case "$sd" in /tmp/munge.*) rm -rf "$sd" ;; esac
  rm -f "$DIR/etc/munge-socket-dir"
fi
if [ "$PURGE" = --purge ]; then
  rm -rf "${DIR:?}"
  log "removed $DIR"
fi
exit 0
