# netns.py: thin wrappers over ip(8), tc(8) and iptables-restore(8) for minicloud's data path (SPEC §9).
#
# Every call runs one program with an argv list (no shell), raises NetError with the program's own
# message when it fails, and never touches a namespace or link the caller did not name.
import ctypes
import ipaddress
import os
import signal
import socket
import subprocess
import time

ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


class NetError(RuntimeError):
    pass


def run(argv, input=None, check=True):
    """Runs ARGV; returns its stdout. Raises NetError with its stderr when it fails and CHECK is set."""
    p = subprocess.run(argv, input=input, capture_output=True, text=True, env=ENV, stdin=None
                       if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise NetError("%s: %s" % (" ".join(argv[:6]), (p.stderr or p.stdout).strip()[:300]))
    return p.stdout


def ip(*args, ns=None, check=True):
    return run(["ip"] + (["-n", ns] if ns else []) + [str(a) for a in args], check=check)


def ip_batch(lines, ns=None):
    """Runs several ip(8) commands in one process (ip -batch): a VM's plumbing costs one fork, not ten."""
    if lines:
        run(["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"], input="\n".join(lines) + "\n")


def nsexec(ns, argv, input=None, check=True):
    return run(["ip", "netns", "exec", ns] + argv, input=input, check=check)


def ns_list():
    out = run(["ip", "netns", "list"], check=False)
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def ns_add(name):
    """Creates namespace NAME with lo up and IPv6 off (no router solicitations or DAD on our bridges)."""
    ip("netns", "add", name)
    ip("link", "set", "lo", "up", ns=name)
    sysctl(name, {"net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1})


def ipv6_on(ns, devs, forwarding=False):
    """Turns IPv6 on for lo and DEVS in namespace NS (ns_add() turned it off), as a VM or router whose port
    has an IPv6 fixed IP has it: no DAD, no router advertisements taken, no autoconfiguration (the address
    comes from the port, as SLAAC or DHCPv6 would give it); with FORWARDING, routes IPv6 between its legs."""
    values = {"net.ipv6.conf.lo.disable_ipv6": 0}
    for dev in devs:
        for key, val in (("accept_dad", 0), ("accept_ra", 0), ("autoconf", 0), ("disable_ipv6", 0)):
            values["net.ipv6.conf.%s.%s" % (dev, key)] = val
    if forwarding:
        values["net.ipv6.conf.all.forwarding"] = 1
    sysctl(ns, values)


def sysctl(ns, values):
    nsexec(ns, ["sysctl", "-q", "-w"] + ["%s=%s" % kv for kv in values.items()])


def ns_pids(name):
    out = run(["ip", "netns", "pids", name], check=False)
    return [int(x) for x in out.split() if x.isdigit()]


def ns_del(name, grace=2.0):
    """Stops every process inside namespace NAME (they are the namespace's: its sshd and what ran under it),
    then deletes it, which destroys its links and their veth peers elsewhere."""
    if name not in ns_list():
        return

    def kill_all(pids, sig):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    pids = ns_pids(name)
    kill_all(pids, signal.SIGTERM)
    end = time.monotonic() + grace
    while pids and time.monotonic() < end:
        time.sleep(0.02)
        pids = ns_pids(name)
    # SIGKILL again to whatever is listed, until nothing is: a process forked between a listing and the
    # kill (an sshd session starting) would otherwise live on in the deleted namespace
    end = time.monotonic() + 10.0
    while pids and time.monotonic() < end:
        kill_all(pids, signal.SIGKILL)
        time.sleep(0.02)
        pids = ns_pids(name)
    ip("netns", "del", name)


def link_names(ns=None):
    out = ip("-o", "link", "show", ns=ns, check=False)
    names = set()
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) > 2:
            names.add(parts[1].strip().split("@")[0])
    return names


def link_del(name, ns=None):
    if name in link_names(ns):
        ip("link", "del", name, ns=ns)


def iptables_restore(ns, text):
    """Replaces the tables named in TEXT inside namespace NS in one transaction."""
    nsexec(ns, ["iptables-restore", "-w", "5"], input=text)


def ip6tables_restore(ns, text):
    """The same for IPv6's tables."""
    nsexec(ns, ["ip6tables-restore", "-w", "5"], input=text)


def netem(ns, dev, delay_ms):
    run(["tc"] + (["-n", ns] if ns else []) + ["qdisc", "replace", "dev", dev, "root", "netem", "delay",
                                                 "%gms" % delay_ms, "limit", "100000"])


CLONE_NEWNET = 0x40000000
SOL_PACKET, PACKET_VNET_HDR, PACKET_OUTGOING, ETH_P_ALL, ETH_P_ARP = 263, 15, 4, 0x0003, 0x0806
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def packet_socket(ns, dev, vnet_hdr=False, proto=ETH_P_ALL):
    """An AF_PACKET socket on DEV inside namespace NS (a socket stays in the namespace it was made in).
    With VNET_HDR, frames keep their GSO and checksum state (struct virtio_net_hdr in front)."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        _setns(target)
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
            if vnet_hdr:
                s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            s.bind((dev, proto))
            s.setblocking(False)
        finally:
            _setns(home)
    finally:
        os.close(home)
        os.close(target)
    return s


def garp(ns, dev, mac, addr):
    """Sends a gratuitous ARP for ADDR from DEV in NS, as Neutron's L3 agent does for a new floating IP, so
    neighbours drop a stale or failed entry at once."""
    s = packet_socket(ns, dev, proto=ETH_P_ARP)
    try:
        hw = bytes.fromhex(mac.replace(":", ""))
        ip4 = ipaddress.IPv4Address(addr).packed
        arp = b"\x00\x01\x08\x00\x06\x04\x00\x01" + hw + ip4 + b"\xff" * 6 + ip4
        s.send(b"\xff" * 6 + hw + b"\x08\x06" + arp)
    finally:
        s.close()
