#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for the cluster tests.
#
#   tests/cluster/slurm_cluster.sh up       install (if missing), configure, start; idempotent
#   tests/cluster/slurm_cluster.sh status   exit 0 when the daemons this tool started are all alive
#   tests/cluster/slurm_cluster.sh down     stop exactly the daemons this tool started; idempotent
#
# Needs root and Debian's apt (bookworm: SLURM 22.05). Works without systemd:
# munged, slurmctld and slurmd are started by hand and their PIDs recorded in
# $ILA_SLURM_STATE; `down` signals only those PIDs (checked against the
# daemon's name, so a reused PID is never hit). A munged that was already
# serving before `up` is used as it is and left running.
#
# No accounting database: `sacct` does not work here, so a Snakemake profile
# must use `slurm-status-command: squeue`; MinJobAge is one hour so that
# squeue still lists every job of a test run after it ended.
#
# Env: ILA_SLURM_STATE      where PIDs are recorded (default /tmp/ila-slurm-cluster)
#      ILA_SLURM_PARTITION  partition name (default debug)
#      ILA_SLURM_MIN_JOB_AGE seconds a finished job stays visible (default 3600)
set -euo pipefail

STATE=${ILA_SLURM_STATE:-/tmp/ila-slurm-cluster}
PART=${ILA_SLURM_PARTITION:-debug}
MIN_JOB_AGE=${ILA_SLURM_MIN_JOB_AGE:-3600}
CONF=/etc/slurm/slurm.conf
MARKER="# written by ila tests/cluster/slurm_cluster.sh"
LOGDIR=/var/log/slurm
PKGS="slurmctld slurmd slurm-client munge"

die() { echo "slurm_cluster.sh: ERROR: $*" >&2; exit 1; }
trap 'echo "slurm_cluster.sh: ERROR: command failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

# alive NAME: the PID recorded for NAME runs a process called NAME
alive() {
  local f="$STATE/$1.pid" pid
  [[ -s "$f" ]] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$1" ]]
}

# wait_pidfile FILE NAME: a daemonizing NAME wrote FILE (10 s at most)
wait_pidfile() {
  for _ in $(seq 100); do
    [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null && return 0
    sleep 0.1
  done
  local log="$LOGDIR/$2.log"
  [[ -f "$log" ]] && { echo "--- last lines of $log" >&2; tail -n 20 "$log" >&2; }
  die "$2 did not start (no live PID in $1)"
}

stop() {  # stop NAME: only a PID this tool recorded
  local name=$1 pid
  if alive "$name"; then
    pid=$(cat "$STATE/$name.pid")
    echo "stopping $name (pid $pid)"
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$STATE/$name.pid"
}

cmd=${1:-up}
case "$cmd" in
  down)
    # reverse order of start; only PIDs recorded by `up`
    for d in slurmd slurmctld munged; do stop "$d"; done
    exit 0
    ;;
  status)
    rc=0
    for d in munged slurmctld slurmd; do
      if [[ -f "$STATE/$d.pid" ]] && ! alive "$d"; then echo "$d: recorded but not running"; rc=1;
      elif alive "$d"; then echo "$d: running (pid $(cat "$STATE/$d.pid"))";
      elif [[ "$d" == munged ]]; then echo "munged: not started by this tool";
      else echo "$d: not running"; rc=1; fi
    done
    exit $rc
    ;;
  up) ;;
  *) die "unknown command '$cmd' (use up, status or down)" ;;
esac

# ---------------------------------------------------------------- 0. checks
[[ $(id -u) -eq 0 ]] || die "must run as root (installs packages and starts daemons)"
mkdir -p "$STATE"
for d in slurmctld slurmd; do
  if ! alive "$d" && pgrep -x "$d" >/dev/null; then
    die "a $d that this tool did not start is running (pid $(pgrep -x "$d" | tr '\n' ' ')); stop it or use that cluster"
  fi
done
if [[ -f "$CONF" ]] && ! grep -qF "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by this tool; refusing to overwrite a site configuration"
fi

# ---------------------------------------------------------------- 1. packages
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [[ -n "$missing" ]]; then
  command -v apt-get >/dev/null || die "apt-get not found: cannot install $missing"
  echo "installing:" $missing
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  # without systemd the packages' postinst "start" is refused harmlessly
  apt-get install -y -qq --no-install-recommends $missing >"$STATE/apt.log" 2>&1 \
    || { tail -n 30 "$STATE/apt.log" >&2; die "apt-get install $missing failed (log: $STATE/apt.log)"; }
fi
[[ -s /etc/munge/munge.key ]] || die "/etc/munge/munge.key is missing (the munge package creates it)"

# ---------------------------------------------------------------- 2. config
HOST=$(hostname -s)
# this machine's real layout, e.g.
# NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105
NODELINE=$(slurmd -C | head -n 1)
[[ "$NODELINE" == NodeName=* ]] || die "unexpected 'slurmd -C' output: $NODELINE"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOGDIR"
chown slurm:slurm /var/spool/slurmctld "$LOGDIR"

NEW_CONF=$(cat <<EOF
$MARKER
# single node, no cgroups, no accounting database
ClusterName=ila
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# finished jobs stay visible to squeue (the Snakemake plugin's status
# command here) for MinJobAge seconds; the plugin needs at least 120
MinJobAge=${MIN_JOB_AGE}
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
${NODELINE} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=${PART} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)
conf_changed=0
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$NEW_CONF" ]]; then
  printf '%s\n' "$NEW_CONF" >"$CONF"
  conf_changed=1
fi

# ---------------------------------------------------------------- 3. daemons
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
if alive munged; then
  :
elif munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "munged already serving (not started by this tool; left as it is)"
else
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid \
    || die "munged failed to start"
  wait_pidfile /run/munge/munged.pid munged
  cp /run/munge/munged.pid "$STATE/munged.pid"
fi
munge -n | unmunge >/dev/null || die "munge credential round trip failed"

if alive slurmctld; then
  if [[ $conf_changed -eq 1 ]]; then scontrol reconfigure; fi
else
  rm -f /run/slurmctld.pid
  # -c: forget jobs of an earlier cluster (one killed with its machine would
  # otherwise be recovered as running and hold the node)
  slurmctld -c || die "slurmctld failed to start (see $LOGDIR/slurmctld.log)"
  wait_pidfile /run/slurmctld.pid slurmctld
  cp /run/slurmctld.pid "$STATE/slurmctld.pid"
fi
if ! alive slurmd; then
  rm -f /run/slurmd.pid
  slurmd || die "slurmd failed to start (see $LOGDIR/slurmd.log)"
  wait_pidfile /run/slurmd.pid slurmd
  cp /run/slurmd.pid "$STATE/slurmd.pid"
fi

# the node must become usable (30 s at most)
st=""
for _ in $(seq 150); do
  st=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  [[ "$st" == idle* || "$st" == mix* || "$st" == alloc* ]] && break
  sleep 0.2
done
if ! [[ "$st" == idle* || "$st" == mix* || "$st" == alloc* ]]; then
  scontrol show node "$HOST" >&2 || true
  tail -n 20 "$LOGDIR/slurmctld.log" >&2 || true
  die "node $HOST is not usable (state '${st:-unknown}')"
fi
sinfo
echo "node: $NODELINE"
echo "daemon PIDs (recorded in $STATE):"
for f in "$STATE"/*.pid; do
  if [[ -e "$f" ]]; then echo "  $(basename "$f" .pid) $(cat "$f")"; fi
done
