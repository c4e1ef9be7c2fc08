# helpers/nshosts.bash - N "hosts" for native-mode tests: network namespaces
# joined by veth to a bridge in the root namespace, each running a real
# sshd on its own address with a fresh host key, all accepting one fresh
# client key.  The runner reaches them from the root namespace.
#
#   nshosts_up N [HIDE]   build hosts 1..N in $NSH_DIR (setup_file);
#                         HIDE="3:nuttcp 2:iperf3" makes a tool absent from
#                         a host's PATH
#   nshosts_down          remove every process, namespace and link (teardown)
#   nsh_ip I, nsh_ns I    host I's address and namespace
#   nsh_ipv6_up           give every host an IPv6 address too (nsh_ip6 I)
#   nsh_pids I            pids of every process living in host I's namespace
#   nsh_kill_sshd I       kill host I's sshd and its sessions, by pid
#   nsh_pw_up I USER PW   a second sshd in host I, on nsh_pw_ip I, that
#                         takes USER's password PW and no key
#   nsh_pw_down I         stop it and what its sessions left, by pid
#   nsh_ctl_up I SRC=DST...  a third sshd in host I, on nsh_ctl_ip I, that
#                         takes the suite's key and sees file or directory
#                         SRC mounted over DST (a host with the test's own
#                         /etc/os-release, /proc/cpuinfo, Python packages)
#   nsh_ctl_down I        stop it and what its sessions left, by pid
#
# Names start with vr<pid of the suite> so that runs never meet; addresses
# are one /24 of 198.18.0.0/15 (RFC 2544 benchmarking range), used only on
# these links, claimed for the suite (nsh_claim) so that suites running side
# by side never share one.

# Each sshd gets a fresh /run in its mount namespace, with the privilege-
# separation directory it needs (/run/sshd exists on the machine only
# where its sshd service ran, and is never touched here), and a /tmp of
# its own, as a host has: what vmtp-run leaves there (tools it uploaded)
# is the host's, never another run's.  Only the test run's folder
# ($NSH_KEEP: the hosts' configs, keys and the tests' files) shows through.
NSH_PRIVATE_RUN='mount -t tmpfs -o mode=0755 nsh-run /run && mkdir -m 0755 /run/sshd /run/keep &&
	mount --bind "$NSH_KEEP" /run/keep && mount -t tmpfs -o mode=1777 nsh-tmp /tmp &&
	mkdir -p "$NSH_KEEP" && mount --bind /run/keep "$NSH_KEEP" &&'

nshosts_up() {
	local n=$1 hide=${2:-} i ns ip veth h
	NSH_DIR=${BATS_FILE_TMPDIR:-$BATS_TEST_TMPDIR}/nsh
	NSH_P=vr$$
	NSH_NET=198.18.$(nsh_claim) || return 1
	NSH_N=$n
	NSH_BR=${NSH_P}br
	NSH_KEEP=${BATS_RUN_TMPDIR:-$NSH_DIR}
	export NSH_DIR NSH_P NSH_NET NSH_N NSH_BR NSH_KEEP
	mkdir -p "$NSH_DIR"
	ssh-keygen -q -t ed25519 -N '' -C vmtp-test -f "$NSH_DIR/id_ed25519"
	cp "$NSH_DIR/id_ed25519.pub" "$NSH_DIR/authorized_keys"
	: > "$NSH_DIR/known_hosts"
	ip link add "$NSH_BR" type bridge
	ip addr add "$NSH_NET.1/24" dev "$NSH_BR"
	ip link set "$NSH_BR" up
	for i in $(seq 1 "$n"); do
		ns=$(nsh_ns "$i")
		ip=$(nsh_ip "$i")
		veth=${NSH_P}h$i
		h=$NSH_DIR/h$i
		mkdir -p "$h"
		ip netns add "$ns"
		ip link add "$veth" type veth peer name eth0 netns "$ns"
		ip link set "$veth" master "$NSH_BR" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$ip/24" dev eth0
		ip -n "$ns" link set eth0 up
		ssh-keygen -q -t ed25519 -N '' -f "$h/hostkey"
		printf '%s %s\n' "$ip" "$(cut -d' ' -f1,2 "$h/hostkey.pub")" \
		    >> "$NSH_DIR/known_hosts"
		cat > "$h/sshd_config" <<-EOF
			ListenAddress $ip
			HostKey $h/hostkey
			PidFile $h/sshd.pid
			AuthorizedKeysFile $NSH_DIR/authorized_keys
			PermitRootLogin prohibit-password
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			StrictModes no
			UsePAM no
			UseDNS no
			LogLevel ERROR
		EOF
		nsh_start_sshd "$i" "$(nsh_hidden "$i" "$hide")"
	done
	for i in $(seq 1 "$n"); do
		nsh_wait_port "$(nsh_ip "$i")" 22
	done
}

# The tools HIDE lists for host I, space separated.
nsh_hidden() {
	local i=$1 w out=
	for w in $2; do
		[ "${w%%:*}" = "$i" ] && out="$out ${w#*:}"
	done
	echo "$out"
}

# Starts host I's sshd; TOOLS are made absent from its sessions' PATH (a
# directory of links to /usr/bin and /usr/sbin without them).
nsh_start_sshd() {
	local i=$1 tools=$2 h=$NSH_DIR/h$1 t
	if [ -n "$tools" ]; then
		mkdir -p "$h/bin"
		cp -s /usr/sbin/* /usr/bin/* "$h/bin/" 2>/dev/null || true
		for t in $tools; do
			rm -f "$h/bin/$t"
		done
		echo "SetEnv PATH=$h/bin" >> "$h/sshd_config"
	fi
	# a clean host: root's shell start-up files here (pyenv, cargo...)
	# are hidden from the sessions by a private mount namespace, which
	# also gives sshd a /run of its own
	: > "$NSH_DIR/empty-rc"
	ip netns exec "$(nsh_ns "$i")" unshare -m --propagation private sh -c "$NSH_PRIVATE_RUN"'
		for f in /root/.bashrc /root/.profile /root/.bash_profile; do
			[ -e "$f" ] && mount --bind "$1" "$f"
		done
		exec /usr/sbin/sshd -f "$2" -E "$3"' sh \
	    "$NSH_DIR/empty-rc" "$h/sshd_config" "$h/sshd.log"
}

nsh_wait_port() {
	local k
	for k in $(seq 1 100); do
		timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nshosts: $1:$2 never answered" >&2
	return 1
}

nsh_ns() { echo "${NSH_P}-h$1"; }
nsh_ip() { echo "$NSH_NET.$((10 + $1))"; }

# Gives each host's eth0 an address of one ULA /64 picked from the pid of
# the suite, without duplicate address detection (usable at once).
nsh_ipv6_up() {
	local i
	NSH_NET6=fd00:$(printf %x $(($$ % 65535 + 1)))
	export NSH_NET6
	for i in $(seq 1 "$NSH_N"); do
		ip -n "$(nsh_ns "$i")" addr add "$(nsh_ip6 "$i")/64" dev eth0 nodad
	done
}

nsh_ip6() { echo "$NSH_NET6::$((10 + $1))"; }

# nsh_exec I CMD...: CMD on host I as its sessions see it (its network
# and its sshd's mount namespace: its own /tmp).
nsh_exec() {
	local i=$1
	shift
	nsenter -t "$(cat "$NSH_DIR/h$i/sshd.pid")" -m -n "$@"
}

nsh_pids() {
	ip netns pids "$(nsh_ns "$1")" 2>/dev/null
}

# Names (comm) of the processes in host I's namespace, one a line.
nsh_comms() {
	local p
	for p in $(nsh_pids "$1"); do
		cat "/proc/$p/comm" 2>/dev/null
	done
}

nsh_kill_sshd() {
	local p
	for p in $(nsh_pids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] && kill "$p" 2>/dev/null
	done
	return 0
}

# nsh_claim: prints K, the first 198.18.K.0/24 (K in 2..251, from the
# suite's pid on) that no live suite holds, and claims it for this suite: a
# claim is the file /tmp/vmtp-nsh-claims/K holding the claimer's pid, made
# under a lock; the claim of a suite that is gone is free again.
nsh_claim() {
	local dir=/tmp/vmtp-nsh-claims i k owner lock
	mkdir -p "$dir" && exec {lock}>"$dir/.lock" && flock "$lock" || return 1
	for i in $(seq 0 249); do
		k=$((($$ + i) % 250 + 2))
		owner=$(cat "$dir/$k" 2>/dev/null)
		if [ -z "$owner" ] || ! kill -0 "$owner" 2>/dev/null; then
			echo $$ >"$dir/$k"
			exec {lock}>&-
			echo "$k"
			return 0
		fi
	done
	exec {lock}>&-
	echo "nshosts: every 198.18.K.0/24 is claimed (/tmp/vmtp-nsh-claims)" >&2
	return 1
}

nshosts_down() {
	local i p ns
	[ -n "${NSH_P:-}" ] || return 0
	for i in $(seq 1 "${NSH_N:-0}"); do
		ns=$(nsh_ns "$i")
		for p in $(nsh_pids "$i"); do
			kill -9 "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
		# gone with its namespace's end of the pair, as a rule
		ip link del "${NSH_P}h$i" 2>/dev/null || true
	done
	ip link del "$NSH_BR" 2>/dev/null || true
	if [ "$(cat "/tmp/vmtp-nsh-claims/${NSH_NET##*.}" 2>/dev/null)" = $$ ]; then
		rm -f "/tmp/vmtp-nsh-claims/${NSH_NET##*.}"
	fi
	return 0
}

# A topology for the native hosts: what vmtp-provision --host would write.
nsh_provision() {
	local args=() i
	for i in $(seq 1 "$NSH_N"); do
		args+=(--host "root@$(nsh_ip "$i")")
	done
	vmtp-provision "${args[@]}" --ssh-key "$NSH_DIR/id_ed25519" \
	    --known-hosts "$NSH_DIR/known_hosts" "$@"
}

# Host I's second address, where nsh_pw_up's sshd listens.
nsh_pw_ip() { echo "$NSH_NET.$((100 + $1))"; }

# Starts a second sshd in host I's namespace on nsh_pw_ip I that accepts
# USER with password PW (read by the helpers from stdin or a variable,
# never put on a command line) and no key.  USER exists only for that
# sshd: it sees copies of /etc/passwd, /etc/group and /etc/shadow with USER
# added, mounted over the real ones in its private mount namespace, so the
# machine's own files are never changed.  Its host key (host I's) goes to
# $NSH_DIR/h$I/pw/known_hosts.  Sets NSH_PW_PID and NSH_PW_MNT (its mount
# namespace: every process of its sessions lives there).
nsh_pw_up() {
	local i=$1 user=$2 pw=$3 d=$NSH_DIR/h$1/pw h=$NSH_DIR/h$1 id=64100
	local addr hash k
	addr=$(nsh_pw_ip "$i")
	mkdir -p "$d"
	cp /etc/passwd /etc/group /etc/shadow "$d/"
	while getent passwd "$id" > /dev/null || getent group "$id" > /dev/null; do
		id=$((id + 1))
	done
	hash=$(printf '%s\n' "$pw" | openssl passwd -6 -stdin)
	# home "/": any user may enter it, and it holds no start-up files
	printf '%s:x:%d:%d:vmtp test:/:/bin/sh\n' "$user" "$id" "$id" >> "$d/passwd"
	printf '%s:x:%d:\n' "$user" "$id" >> "$d/group"
	printf '%s:%s:%d:0:99999:7:::\n' "$user" "$hash" $(($(date +%s) / 86400)) >> "$d/shadow"
	printf '%s %s\n' "$addr" "$(cut -d' ' -f1,2 "$h/hostkey.pub")" > "$d/known_hosts"
	cat > "$d/sshd_config" <<-EOF
		ListenAddress $addr
		HostKey $h/hostkey
		PidFile $d/sshd.pid
		AllowUsers $user
		PubkeyAuthentication no
		AuthorizedKeysFile none
		PasswordAuthentication yes
		PermitEmptyPasswords no
		KbdInteractiveAuthentication no
		PermitRootLogin no
		StrictModes no
		UsePAM no
		UseDNS no
		LogLevel INFO
	EOF
	ip -n "$(nsh_ns "$i")" addr add "$addr/24" dev eth0
	rm -f "$d/sshd.pid"
	ip netns exec "$(nsh_ns "$i")" unshare -m --propagation private sh -c "$NSH_PRIVATE_RUN"'
		for f in passwd group shadow; do
			mount --bind "$1/$f" "/etc/$f"
		done
		exec /usr/sbin/sshd -f "$1/sshd_config" -E "$1/sshd.log"' sh "$d"
	for k in $(seq 1 100); do
		[ -s "$d/sshd.pid" ] && break
		sleep 0.05
	done
	NSH_PW_PID=$(cat "$d/sshd.pid")
	NSH_PW_MNT=$(readlink "/proc/$NSH_PW_PID/ns/mnt")
	export NSH_PW_PID NSH_PW_MNT
	nsh_wait_port "$addr" 22
}

# nsh_stop_sshd I PID MNT: stops host I's second or third sshd (PID) and
# every process of its sessions (they live in its mount namespace MNT).
nsh_stop_sshd() {
	local i=$1 pid=$2 mnt=$3 p
	for p in $(nsh_pids "$i"); do
		[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$mnt" ] &&
		    kill "$p" 2>/dev/null
	done
	for p in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
}

nsh_pw_down() {
	local i=$1
	[ -n "${NSH_PW_MNT:-}" ] || return 0
	nsh_stop_sshd "$i" "$NSH_PW_PID" "$NSH_PW_MNT"
	ip -n "$(nsh_ns "$i")" addr del "$(nsh_pw_ip "$i")/24" dev eth0 2>/dev/null
	NSH_PW_PID=
	NSH_PW_MNT=
	return 0
}

# Host I's third address, where nsh_ctl_up's sshd listens.
nsh_ctl_ip() { echo "$NSH_NET.$((150 + $1))"; }

# Starts a third sshd in host I's namespace on nsh_ctl_ip I, configured as
# host I's own (the suite's key, host I's host key, added to
# $NSH_DIR/known_hosts for this address), in a private mount namespace
# where each SRC=DST argument mounts file or directory SRC over DST, which
# must exist: the sessions see the test's files there, the machine's own
# are never changed.  Sets NSH_CTL_PID and NSH_CTL_MNT (its mount
# namespace: every process of its sessions lives there).
nsh_ctl_up() {
	local i=$1 d=$NSH_DIR/h$1/ctl h=$NSH_DIR/h$1 addr k
	shift
	addr=$(nsh_ctl_ip "$i")
	mkdir -p "$d"
	sed -e "s|^ListenAddress .*|ListenAddress $addr|" \
	    -e "s|^PidFile .*|PidFile $d/sshd.pid|" "$h/sshd_config" > "$d/sshd_config"
	grep -q "^$addr " "$NSH_DIR/known_hosts" ||
	    printf '%s %s\n' "$addr" "$(cut -d' ' -f1,2 "$h/hostkey.pub")" \
	    >> "$NSH_DIR/known_hosts"
	ip -n "$(nsh_ns "$i")" addr add "$addr/24" dev eth0
	rm -f "$d/sshd.pid"
	ip netns exec "$(nsh_ns "$i")" unshare -m --propagation private sh -c "$NSH_PRIVATE_RUN"'
		rc=$1 cfg=$2 log=$3
		shift 3
		for f in /root/.bashrc /root/.profile /root/.bash_profile; do
			[ -e "$f" ] && mount --bind "$rc" "$f"
		done
		for m; do
			mount --bind "${m%%=*}" "${m#*=}" || exit 1
		done
		exec /usr/sbin/sshd -f "$cfg" -E "$log"' sh \
	    "$NSH_DIR/empty-rc" "$d/sshd_config" "$d/sshd.log" "$@"
	for k in $(seq 1 100); do
		[ -s "$d/sshd.pid" ] && break
		sleep 0.05
	done
	NSH_CTL_PID=$(cat "$d/sshd.pid")
	NSH_CTL_MNT=$(readlink "/proc/$NSH_CTL_PID/ns/mnt")
	export NSH_CTL_PID NSH_CTL_MNT
	nsh_wait_port "$addr" 22
}

nsh_ctl_down() {
	local i=$1
	[ -n "${NSH_P:-}" ] || return 0
	if [ -n "${NSH_CTL_MNT:-}" ]; then
		nsh_stop_sshd "$i" "$NSH_CTL_PID" "$NSH_CTL_MNT"
	fi
	# the address goes even when no sshd came up on it
	ip -n "$(nsh_ns "$i")" addr del "$(nsh_ctl_ip "$i")/24" dev eth0 2>/dev/null
	NSH_CTL_PID=
	NSH_CTL_MNT=
	return 0
}
