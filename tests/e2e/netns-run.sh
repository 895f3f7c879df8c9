#!/usr/bin/env bash
# Runs its arguments inside a fresh private network namespace from which nothing can leave this
# machine (see /work/shared/TESTING.md, "Networks in tests"):
#   - `lo` up (127.0.0.1, ::1);
#   - a veth pair whose BOTH ends stay inside the namespace: p2pb0 has 198.51.100.1/24
#     (TEST-NET-2, documentation only) and carries the default route, p2pb1 has no address.
#     Firefox gathers no ICE candidates on loopback alone; with this interface it does, and every
#     packet (mDNS, ICE, TCP) still stays inside the namespace. An off-machine destination only
#     produces unanswered ARP on p2pb0 (EHOSTUNREACH after ~3 s); DNS servers are unreachable.
#   - IP forwarding off, so p2pb1 never bounces packets back.
# The namespace (and its interfaces) disappears when the command exits.
# Usage: tests/e2e/netns-run.sh <command> [args...]   Exit code = the command's.
# PATH is kept as is (npm scripts put node_modules/.bin, with Node 22, first).
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 64
fi

if [[ "${P2PB_NETNS_INNER:-}" != "1" ]]; then
  PATH="$PATH:/usr/sbin:/sbin"  # for ip/sysctl; appended, so node_modules/.bin stays first
  command -v unshare >/dev/null || { echo "netns-run: unshare (util-linux) not found" >&2; exit 69; }
  command -v ip >/dev/null || { echo "netns-run: ip (iproute2) not found" >&2; exit 69; }
  export PATH P2PB_NETNS_INNER=1
  self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
  if [[ "$(id -u)" -eq 0 ]]; then
    exec unshare --net --mount -- "$self" "$@"
  else
    exec unshare --user --map-root-user --net --mount -- "$self" "$@"
  fi
fi

# --- inside the new network namespace ---
unset P2PB_NETNS_INNER
ip link set lo up
ip link add p2pb0 type veth peer name p2pb1
ip addr add 198.51.100.1/24 dev p2pb0
ip link set p2pb0 up
ip link set p2pb1 up
ip route add default dev p2pb0
sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 2>/dev/null || true

# Refuse to run if this is somehow not a private namespace (e.g. the host's eth0 is visible).
if ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vqxE 'lo|p2pb0|p2pb1'; then
  echo "netns-run: unexpected interfaces in the namespace, refusing to run:" >&2
  ip -o link show >&2
  exit 70
fi

# A small disk of its own (tmpfs, in this mount namespace only) for tests that fill a browser's
# storage quota: browsers size their quota from the disk their profile is on.
mount --make-rprivate / 2>/dev/null || true
P2PB_SMALL_DISK="$(mktemp -d /tmp/p2pb-small-disk-XXXXXX)"
if mount -t tmpfs -o size=48m,mode=0700 p2pb-small-disk "$P2PB_SMALL_DISK"; then
  export P2PB_SMALL_DISK
else
  echo "netns-run: could not mount a small tmpfs; the storage-quota test will fail" >&2
  rmdir "$P2PB_SMALL_DISK"
  unset P2PB_SMALL_DISK
fi

export P2PB_NETNS=1
echo "netns-run: running inside a private network namespace (lo + veth p2pb0 198.51.100.1/24 <-> p2pb1; nothing leaves this machine)"
status=0
"$@" || status=$?
if [[ -n "${P2PB_SMALL_DISK:-}" ]]; then umount "$P2PB_SMALL_DISK" 2>/dev/null && rmdir "$P2PB_SMALL_DISK"; fi
exit "$status"
