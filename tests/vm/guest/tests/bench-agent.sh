#!/bin/sh
# Guest side of tests/bench/vm/40-dom0-one-vcpu.sh: netback-agent's iperf3
# server and command agent, in an initramfs of its own that has fio too
# (the netback tests' guests boot faster without it).
# guest-programs: iperf3 fio
# shellcheck source=SCRIPTDIR/netback-agent.sh
. /tests/netback-agent.sh
