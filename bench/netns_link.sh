#!/bin/sh
# bench/netns_link.sh: a network link for benchmarks that is neither loopback
# nor a real NIC: two network namespaces joined by a veth pair, each end
# rate-limited with tc (tbf; htb where tbf is missing), optionally with a
# netem delay. bench/run_bench.py runs tetherd in the server namespace and the
# client in the other, so frames cross a link of known rate. Needs root and
# iproute2 (ip, tc).
#
#   bench/netns_link.sh up [--rate 20gbit] [--delay MS] [--mtu 1500] [--prefix tbench]
#   bench/netns_link.sh show [--prefix tbench]    # qdisc counters of both ends
#   bench/netns_link.sh down [--prefix tbench]
#
# "up" replaces a link of the same prefix and prints, as shell assignments:
#   SERVER_NS=tbench-srv CLIENT_NS=tbench-cli SERVER_ADDR=10.213.0.1 CLIENT_ADDR=10.213.0.2
#   RATE=20gbit QDISC=tbf
# --rate is per direction; --delay (one way, milliseconds) needs the kernel's
# sch_netem. Use: ip netns exec "$SERVER_NS" tetherd --listen "$SERVER_ADDR:0"
set -eu

cmd=${1:-}
[ $# -gt 0 ] && shift
rate=20gbit
delay=0
mtu=1500
prefix=tbench
while [ $# -gt 0 ]; do
	case $1 in
	--rate) rate=$2; shift 2 ;;
	--delay) delay=$2; shift 2 ;;
	--mtu) mtu=$2; shift 2 ;;
	--prefix) prefix=$2; shift 2 ;;
	*) echo "netns_link.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

srv_ns=$prefix-srv
cli_ns=$prefix-cli
srv_if=$prefix-s
cli_if=$prefix-c
srv_addr=10.213.0.1
cli_addr=10.213.0.2

die() {
	echo "netns_link.sh: $*" >&2
	exit 1
}

# Bytes per second of a tc rate (bit, kbit, mbit, gbit; tc's decimal units).
rate_bytes() {
	case $1 in
	*gbit) echo $(( ${1%gbit} * 125000000 )) ;;
	*mbit) echo $(( ${1%mbit} * 125000 )) ;;
	*kbit) echo $(( ${1%kbit} * 125 )) ;;
	*bit) echo $(( ${1%bit} / 8 )) ;;
	*) die "--rate $1: give it in bit, kbit, mbit or gbit (integer)" ;;
	esac
}

down() {
	ip netns del "$srv_ns" 2>/dev/null || true
	ip netns del "$cli_ns" 2>/dev/null || true
}

# Egress shaping of one end: $1 namespace, $2 interface. The bucket holds
# 1 ms at the rate (at least 64 KiB, one GSO packet): large enough that the
# qdisc's timer granularity does not cut the rate, small enough that a burst
# cannot run far ahead of it.
shape() {
	burst=$(( $(rate_bytes "$rate") / 1000 ))
	[ "$burst" -ge 65536 ] || burst=65536
	if ip netns exec "$1" tc qdisc add dev "$2" root handle 1: tbf rate "$rate" burst "$burst" \
		latency 50ms 2>/dev/null; then
		child=1:1
		qdisc=tbf
	else
		ip netns exec "$1" tc qdisc add dev "$2" root handle 1: htb default 10 ||
			die "neither tbf nor htb can be added on $2"
		ip netns exec "$1" tc class add dev "$2" parent 1: classid 1:10 htb rate "$rate" ceil "$rate" \
			burst "$burst" cburst "$burst" 2>/dev/null
		child=1:10
		qdisc=htb
	fi
	if [ "$delay" != 0 ]; then
		ip netns exec "$1" tc qdisc add dev "$2" parent "$child" handle 10: netem delay "${delay}ms" limit 100000 ||
			die "netem is not available in this kernel (sch_netem): cannot add --delay"
		qdisc="$qdisc+netem-delay-${delay}ms"
	fi
}

up() {
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces, tc)"
	command -v ip >/dev/null || die "no ip (iproute2)"
	command -v tc >/dev/null || die "no tc (iproute2)"
	rate_bytes "$rate" >/dev/null
	down
	trap down EXIT # a link half set up is taken down again
	ip netns add "$srv_ns"
	ip netns add "$cli_ns"
	ip link add "$srv_if" netns "$srv_ns" mtu "$mtu" type veth peer name "$cli_if" netns "$cli_ns" mtu "$mtu"
	ip -n "$srv_ns" addr add "$srv_addr/30" dev "$srv_if"
	ip -n "$cli_ns" addr add "$cli_addr/30" dev "$cli_if"
	for ns in "$srv_ns" "$cli_ns"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$srv_ns" link set "$srv_if" up
	ip -n "$cli_ns" link set "$cli_if" up
	shape "$srv_ns" "$srv_if"
	shape "$cli_ns" "$cli_if"
	trap - EXIT
	echo "SERVER_NS=$srv_ns CLIENT_NS=$cli_ns SERVER_ADDR=$srv_addr CLIENT_ADDR=$cli_addr RATE=$rate QDISC=$qdisc"
}

show() {
	for end in "$srv_ns $srv_if" "$cli_ns $cli_if"; do
		set -- $end
		echo "== $1 $2"
		ip netns exec "$1" tc -s qdisc show dev "$2"
	done
}

case $cmd in
up) up ;;
down) down ;;
show) show ;;
*) echo "usage: netns_link.sh up|show|down [--rate 20gbit] [--delay MS] [--mtu 1500] [--prefix tbench]" >&2; exit 2 ;;
esac
