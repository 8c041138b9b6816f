#!/usr/bin/env bash
# start-cluster.sh DIR — start a private single-node Slurm cluster (munged + slurmctld + slurmd)
# whose every file lives under DIR. Needs root and the Debian packages
# slurmctld slurmd slurm-client munge (test/slurm/setup.sh installs them).
#
# stdout: only `export KEY=VALUE` lines (eval them, or parse them); DIR/env.sh holds the same.
# stderr: progress and, on failure, the tail of the daemon logs.
# Exit 0 when the node is idle and accepts jobs; non-zero otherwise (whatever it started is stopped again).
#
# Environment (all optional):
#   SLURM_TEST_AUTH      munge (default) | none   auth/none skips munged (Slurm 22.05 still ships it)
#   SLURM_TEST_CTLD_PORT / SLURM_TEST_SLURMD_PORT   fixed ports; default: the ones of the last start in
#                        DIR if still free, else random free ports in 20000-39999
#   SLURM_TEST_NODE      node name (default localnode); independent of the machine's hostname
#   SLURM_TEST_CPUS      CPUs to advertise (default: what `slurmd -C` sees); more than the machine has
#                        is allowed (SlurmdParameters=config_overrides) to run more array tasks at once
#   SLURM_TEST_CLUSTER   ClusterName (default testcluster); must stay the same for a reused DIR
#   SLURM_TEST_PROCTRACK proctrack/pgid (default) | proctrack/linuxproc | proctrack/cgroup (see docs/cluster.md)
#   SLURM_TEST_PROBE=0   skip the probe job (saves ~3 s; then a first job may wait ~3 s to start)
#   SLURM_TEST_FRESH=1   wipe DIR's saved controller state (job ids restart at 1)
#   SLURM_TEST_TIMEOUT   seconds to wait for each daemon (default 30)
set -euo pipefail

DIR=${1:?usage: start-cluster.sh DIR}
AUTH=${SLURM_TEST_AUTH:-munge}
NODE=${SLURM_TEST_NODE:-localnode}
CLUSTER=${SLURM_TEST_CLUSTER:-testcluster}
TIMEOUT=${SLURM_TEST_TIMEOUT:-30}
PROCTRACK=${SLURM_TEST_PROCTRACK:-proctrack/pgid}
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf '[slurm-test] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (SlurmUser=root, jobs run as root)"
for b in slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$b" >/dev/null || die "$b not found: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"
done
case "$AUTH" in
  munge) for b in munged mungekey munge unmunge; do command -v "$b" >/dev/null || die "$b not found: apt-get install -y munge"; done ;;
  none) ;;
  *) die "SLURM_TEST_AUTH must be munge or none" ;;
esac

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
CONF="$DIR/etc/slurm.conf"

# --- refuse to start twice --------------------------------------------------------------------
alive() { # alive PIDFILE -> 0 if that pid runs a process whose command line names $DIR
  local f=$1 pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DIR/"
}
for d in munged slurmctld slurmd; do
  if alive "$DIR/run/$d.pid"; then
    die "$d of this cluster is already running (pid $(cat "$DIR/run/$d.pid")); run stop-cluster.sh $DIR first"
  fi
done

# --- directories ---------------------------------------------------------------------------------
mkdir -p "$DIR"/{etc,state,spool,log,run,munge}
rm -f "$DIR"/run/*.pid "$DIR"/munge/munge.socket "$DIR"/munge/munge.socket.lock
if [ "${SLURM_TEST_FRESH:-0}" = 1 ]; then rm -rf "${DIR:?}/state" "${DIR:?}/spool"; mkdir -p "$DIR/state" "$DIR/spool"; fi
# munged insists that every directory above its socket is searchable by all (o+x) and not writable
# by group/other (sticky /tmp is fine); mktemp -d makes 0700 folders, so open DIR up.
chmod 755 "$DIR" "$DIR"/{etc,state,spool,log,run,munge}

# --- ports -------------------------------------------------------------------------------------------
listening_ports() { # decimal TCP ports in LISTEN state, one per line
  local f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] && awk 'NR>1 && $4=="0A" { n=split($2,a,":"); print a[n] }' "$f"
  done | while read -r h; do echo $((16#$h)); done | sort -u
}
port_free() { ! listening_ports | grep -qx "$1"; }
pick_port() { # pick_port AVOID
  local p i
  for i in $(seq 1 500); do
    p=$((20000 + RANDOM % 20000))
    [ "$p" != "$1" ] && port_free "$p" && { echo "$p"; return 0; }
  done
  return 1
}
prev_ctld= prev_slurmd=
[ -s "$DIR/etc/ports" ] && read -r prev_ctld prev_slurmd <"$DIR/etc/ports" || true
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-}
if [ -z "$CTLD_PORT" ]; then
  if [ -n "$prev_ctld" ] && port_free "$prev_ctld"; then CTLD_PORT=$prev_ctld; else CTLD_PORT=$(pick_port 0); fi
fi
if [ -z "$SLURMD_PORT" ]; then
  if [ -n "$prev_slurmd" ] && [ "$prev_slurmd" != "$CTLD_PORT" ] && port_free "$prev_slurmd"; then SLURMD_PORT=$prev_slurmd
  else SLURMD_PORT=$(pick_port "$CTLD_PORT"); fi
fi
port_free "$CTLD_PORT" || die "port $CTLD_PORT is already in use"
port_free "$SLURMD_PORT" || die "port $SLURMD_PORT is already in use"
echo "$CTLD_PORT $SLURMD_PORT" >"$DIR/etc/ports"

# --- hardware as slurmd sees it ------------------------------------------------------------------
# e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
HW=$(slurmd -C 2>/dev/null | head -1)
hw() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$HW"; }
HW_CPUS=$(hw CPUs); HW_MEM=$(hw RealMemory)
[ -n "$HW_CPUS" ] || HW_CPUS=$(nproc)
[ -n "$HW_MEM" ] || HW_MEM=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
MEM=$((HW_MEM > 1024 ? HW_MEM - 512 : HW_MEM / 2))  # must not exceed what slurmd finds, or the node is drained
CPUS=${SLURM_TEST_CPUS:-$HW_CPUS}
if [ "$CPUS" = "$HW_CPUS" ]; then
  # exact topology: avoids "Node reconfigured socket/core boundaries" noise
  TOPO=
  if [ -n "$(hw Boards)" ] && [ -n "$(hw SocketsPerBoard)" ] && [ -n "$(hw CoresPerSocket)" ] && [ -n "$(hw ThreadsPerCore)" ]; then
    TOPO="Boards=$(hw Boards) SocketsPerBoard=$(hw SocketsPerBoard) CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore)"
  fi
  OVERRIDES=
else
  TOPO="Sockets=1 CoresPerSocket=$CPUS ThreadsPerCore=1"
  OVERRIDES="SlurmdParameters=config_overrides"
fi

# --- munge ---------------------------------------------------------------------------------------------
if [ "$AUTH" = munge ]; then
  # munged wants every folder above its socket to be searchable by all (o+x), and a socket path must
  # fit in 107 bytes; when DIR does not allow that (a 0700 mktemp parent, a deep path), the socket
  # goes to a short 0755 folder in /tmp that stop-cluster.sh removes.
  SOCK_DIR="$DIR/munge"
  walk=$DIR
  while [ "$walk" != / ]; do
    [ "$(( $(stat -c %#a "$walk") & 1 ))" = 1 ] || { SOCK_DIR=; break; }
    walk=$(dirname "$walk")
  done
  [ -n "$SOCK_DIR" ] && [ ${#SOCK_DIR} -le 90 ] || {
    SOCK_DIR=$(cat "$DIR/etc/munge-socket-dir" 2>/dev/null || true)
    [ -n "$SOCK_DIR" ] && [ -d "$SOCK_DIR" ] || SOCK_DIR=$(mktemp -d /tmp/munge.XXXXXX)
    chmod 755 "$SOCK_DIR"
    echo "$SOCK_DIR" >"$DIR/etc/munge-socket-dir"
  }
  SOCKET="$SOCK_DIR/munge.socket"
  rm -f "$SOCKET" "$SOCKET.lock"
  if [ ! -s "$DIR/munge/munge.key" ]; then
    mungekey --create --bits=1024 --keyfile="$DIR/munge/munge.key" 2>/dev/null ||
      dd if=/dev/urandom of="$DIR/munge/munge.key" bs=128 count=1 status=none
  fi
  chown root:root "$DIR/munge/munge.key"   # must be owned by the user munged runs as (root here)
  chmod 400 "$DIR/munge/munge.key"         # and not group/other readable
  AUTH_LINES="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET"
else
  AUTH_LINES="AuthType=auth/none
CredType=cred/none"
fi

# --- slurm.conf ---------------------------------------------------------------------------------------
cat >"$CONF" <<EOF
# generated by start-cluster.sh
ClusterName=$CLUSTER
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
$AUTH_LINES
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.daemon.pid
SlurmdPidFile=$DIR/run/slurmd.daemon.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=$PROCTRACK
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
KillWait=2
MinJobAge=300
$OVERRIDES
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$CPUS $TOPO RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
rm -f "$DIR/etc/cgroup.conf"
if [ "$PROCTRACK" = proctrack/cgroup ]; then
  # read from the folder of slurm.conf; works here with the cgroup v1 hierarchy (freezer) only
  cat >"$DIR/etc/cgroup.conf" <<EOF
CgroupPlugin=autodetect
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
fi
export SLURM_CONF="$CONF"

# --- start helpers -------------------------------------------------------------------------------------
STARTED=()
cleanup_on_fail() {
  local rc=$?
  [ $rc = 0 ] && return 0
  log "start failed (rc=$rc); log tails:"
  for f in "$DIR"/log/*.out "$DIR"/log/slurmctld.log "$DIR"/log/slurmd.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
  done
  local p
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$DIR"/run/*.pid
  if [ -s "$DIR/etc/munge-socket-dir" ]; then
    case "$(cat "$DIR/etc/munge-socket-dir")" in /tmp/munge.*) rm -rf "$(cat "$DIR/etc/munge-socket-dir")" ;; esac
    rm -f "$DIR/etc/munge-socket-dir"
  fi
  exit $rc
}
trap cleanup_on_fail EXIT

launch() { # launch NAME CMD... : run in its own session, detached from our stdin/stdout (a harness
  local name=$1; shift   #        reading our stdout would otherwise wait for the daemons to exit)
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$DIR/run/$name.pid"
  STARTED+=("$pid")
}
wait_for() { # wait_for WHAT PID CMD... : poll CMD every 0.2 s until it succeeds
  local what=$1 pid=$2; shift 2
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "$what exited during start-up"
    [ $SECONDS -lt $deadline ] || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.2
  done
}

T0=$(date +%s.%N)
if [ "$AUTH" = munge ]; then
  launch munged munged --foreground --socket="$SOCKET" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/munged.seed" --log-file="$DIR/log/munged.log"
  munge_ok() { munge -S "$SOCKET" -n </dev/null | unmunge -S "$SOCKET"; }
  wait_for munged "${STARTED[-1]}" munge_ok
fi

launch slurmctld slurmctld -D -f "$CONF"
ctld_up() { scontrol ping | grep -q 'is UP'; }
wait_for slurmctld "${STARTED[-1]}" ctld_up

launch slurmd slurmd -D -f "$CONF" -N "$NODE"
node_idle() { [ "$(sinfo -h -N -n "$NODE" -o %T)" = idle ]; }
if ! (wait_for "node $NODE to become idle" "${STARTED[-1]}" node_idle); then
  scontrol show node "$NODE" >&2 || true   # State= and Reason= tell why (e.g. Low RealMemory)
  exit 1
fi
T_IDLE=$(date +%s.%N)

if [ "${SLURM_TEST_PROBE:-1}" = 1 ]; then
  # The controller's first scheduling pass comes ~3 s after it starts: a job submitted before then
  # waits (Reason=None). A probe job waits that out and proves munge, slurmd and slurmstepd work.
  PROBE=$(sbatch --parsable --job-name=start-probe --chdir="$DIR/run" --output=/dev/null --wrap true) ||
    die "probe job submission failed"
  probe_done() { [ -z "$(squeue -h -j "$PROBE" 2>/dev/null)" ]; }
  wait_for "probe job $PROBE" "${STARTED[-1]}" probe_done
  st=$(scontrol show job "$PROBE" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  [ "$st" = COMPLETED ] || die "probe job $PROBE ended in state '$st'"
fi
T1=$(date +%s.%N)

trap - EXIT
log "cluster up: node idle after $(awk -v a="$T0" -v b="$T_IDLE" 'BEGIN{printf "%.1f", b-a}') s, ready (probe job done) after $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s: auth=$AUTH node=$NODE cpus=$CPUS ctld_port=$CTLD_PORT slurmd_port=$SLURMD_PORT"

{
  echo "export SLURM_CONF=$CONF"
  echo "export SLURM_TEST_DIR=$DIR"
  echo "export SLURM_TEST_PARTITION=debug"
  echo "export SLURM_TEST_NODE=$NODE"
  echo "export SLURM_TEST_CTLD_PORT=$CTLD_PORT"
  echo "export SLURM_TEST_SLURMD_PORT=$SLURMD_PORT"
} | tee "$DIR/env.sh"
