#!/usr/bin/env bash
# Installs what the Slurm tests need (test/integration/slurm.test.ts): Debian's slurmctld, slurmd, slurm-client
# and munge, without recommends (8 packages, ~3.5 MB), skipping the install when they are there. Root only.
# The packages' postinst scripts would start the system's munge/slurmd/slurmctld services; a policy-rc.d that
# exits 101 (added for the install when the image has none) keeps them from doing so: the tests run their own
# daemons in a temporary folder (start-cluster.sh / stop-cluster.sh beside this script).
# Exit status: 0 when installed; 2 when it cannot be (not root, no apt-get), with the reason on stderr.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
need=
for b in slurmctld slurmd sbatch munged; do command -v "$b" >/dev/null 2>&1 || need=1; done
if [ -z "$need" ]; then echo "slurm + munge already installed: $(slurmd -V 2>/dev/null)" >&2; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "cannot install slurm-wlm and munge: not root" >&2; exit 2; }
command -v apt-get >/dev/null || { echo "cannot install slurm-wlm and munge: no apt-get on this machine" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
echo "installed: $(slurmd -V), $(munged -V | head -1)" >&2
