# netns.py: thin wrappers over ip(8), tc(8) and iptables-restore(8) for minicloud's data path (SPEC §9).
#
# Every call runs one program with an argv list (no shell), raises NetError with the program's own
# message when it fails, and never touches a namespace or link the caller did not name.
import os
import signal
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
    pids = ns_pids(name)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + wait
        while pids and time.monotonic() < end:
            time.sleep(0.02)
            pids = [p for p in ns_pids(name)]
        if not pids:
            break
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


def netem(ns, dev, delay_ms):
    run(["tc"] + (["-n", ns] if ns else []) + ["qdisc", "replace", "dev", dev, "root", "netem", "delay",
                                                 "%gms" % delay_ms, "limit", "100000"])
