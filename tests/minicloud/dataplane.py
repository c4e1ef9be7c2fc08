#!/usr/bin/python3
# dataplane.py: minicloud's L2/L3 agent: makes Neutron's and compute's state real on the machine (SPEC §9).
"""usage: dataplane.py D --computes N [--inter-node-delay MS] [--tenant-routes]

Started by `minicloud up` (as a service in its ledger), stopped by `minicloud down`. It reconciles the
machine with the cloud the way Neutron's L2 and L3 agents do, watching as admin through the API:

  compute host i   namespace P-hI: one bridge per tenant network (multicast flooded: no snooping); hosts
                   2..N joined to host 1 (the network node) by one veth per network, with netem delay when
                   --inter-node-delay is given
  external network bridge in P-h1; the root namespace holds the external subnet's gateway IP on link
                   Pext, so the operator's machine reaches floating IPs; no forwarding or NAT in root; while
                   a server on host i > 1 has a port on it, a bridge there too, joined to host 1's
  server           namespace P-vm-ID: per port a veth on its network's bridge on its host, the port's MAC and
                   fixed IPs (IPv6 ones as SLAAC or DHCPv6 would give them), default routes via the subnets'
                   gateways, an sshd on the fixed IP for root with the key pair's key, and its security groups
                   as iptables and ip6tables rules (ingress; egress open); a port
                   on the external network (a provider network) goes on the external bridge, so the root
                   namespace reaches the server at its fixed IP. As cloud-init would: no IPv4 address on a
                   port whose subnet has no DHCP unless the server has a config drive; a user-data script
                   (#!) runs once, before the server is reported ready
  router           namespace P-r-ID: qr- legs on attached subnets (forwarding IPv4 and IPv6), qg- gateway on
                   the external bridge, SNAT for internal subnets, DNAT/SNAT for each floating IP
  tenant routes    with --tenant-routes, the root namespace routes each IPv4 subnet on a router with a gateway
                   via that gateway IP (as a BGP speaker advertises them to the operator's router)
  external host    namespace P-xh on the external network with its own sshd (D/external-host)

P is "mc" + 4 hex digits of D's path, so clouds never collide. Everything is written to D/dataplane/ledger
before it is made; cleanup(D) undoes it all from the ledger alone, even after kill -9 of the agent.
compute.py loads class Agent from this module: plug() returns once the server's namespace and sshd are up."""
import argparse
import base64
import concurrent.futures
import hashlib
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mclib  # noqa: E402
import netns  # noqa: E402
from netns import NetError  # noqa: E402

POLL = 0.05  # how often nudges are looked for (s)
FULL_POLL = 2.0  # a full look at Neutron even without a nudge (s)
SSHD = "/usr/sbin/sshd"
# A fresh /run for a namespace's sshd, in its own mount namespace: the machine's /run is left alone
PRIVATE_RUN = "mount -t tmpfs -o mode=0755 minicloud-run /run && mkdir -m 0755 /run/sshd"
# After PRIVATE_RUN, in a script run as `sh -c SCRIPT HOME KEEP COMMAND...`: a VM's own /root (HOME, a
# folder of its work directory) and /tmp (the folder beside it, kept for the VM's life: its sshd's sessions
# and its user-data script see the same one, and no other VM's); the cloud's folder KEEP, where the VM's
# sshd finds its configuration and keys, shows through at its path when it is under /tmp
VM_HOME = (' && keep=$1 && shift && mount --bind "$0" /root && mkdir -p "$0.tmp" && chmod 1777 "$0.tmp"'
           ' && mkdir /run/keep && mount --bind "$keep" /run/keep && mount --bind "$0.tmp" /tmp'
           ' && mkdir -p "$keep" && mount --bind /run/keep "$keep"')
USER_DATA_TIMEOUT = 30  # s a user-data script may run before it is killed (the boot then goes on)


def prefix(d):
    return "mc" + hashlib.sha1(os.path.abspath(d).encode()).hexdigest()[:4]


def log(msg):
    print("%s dataplane: %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Names:
    """Every name the agent gives: namespaces are P-..., links P + a letter + an id prefix (<= 15 chars)."""

    def __init__(self, d):
        self.p = prefix(d)

    def host(self, i):
        return "%s-h%d" % (self.p, i)

    def vm(self, sid):
        return "%s-vm-%s" % (self.p, sid[:8])

    def router(self, rid):
        return "%s-r-%s" % (self.p, rid[:8])

    def bridge(self, nid):
        return "%sb%s" % (self.p, nid[:8])

    def link(self, i, nid):
        return "%sl%d%s" % (self.p, i, nid[:7])

    def tap(self, pid):
        return "%st%s" % (self.p, pid[:8])


def start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as fp:
            return fp.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Ledger:
    """D/dataplane/ledger: one line per namespace, root link or process, written (and synced) before the
    thing exists, so cleanup() finds all of it whatever happened to the agent."""

    def __init__(self, d):
        self.path = os.path.join(d, "dataplane", "ledger")

    def add(self, *fields):
        with open(self.path, "a") as fp:
            fp.write(" ".join(str(f) for f in fields) + "\n")
            fp.flush()
            os.fsync(fp.fileno())

    def entries(self):
        try:
            with open(self.path) as fp:
                return [line.split() for line in fp if line.strip()]
        except FileNotFoundError:
            return []


def cleanup(d):
    """Removes everything the ledger names: processes (pid and start time must match), namespaces (with what
    runs and lives in them), root links. Safe to run twice; used by `minicloud down`."""
    entries = Ledger(d).entries()
    errors = []
    for e in entries:
        if e[0] == "proc" and len(e) >= 3 and start_time(int(e[1])) == e[2]:
            try:
                os.kill(int(e[1]), signal.SIGKILL)
            except ProcessLookupError:
                pass
    present = netns.ns_list()
    for e in reversed(entries):
        try:
            if e[0] == "netns" and e[1] in present:
                netns.ns_del(e[1], grace=0.5)
                present.discard(e[1])
            elif e[0] == "link":
                netns.link_del(e[1])
            elif e[0] == "route" and len(e) >= 4 and e[3] in netns.link_names():
                netns.ip("route", "del", e[1], "via", e[2], "dev", e[3], check=False)
        except NetError as err:
            errors.append(str(err))
    if errors:
        raise NetError("; ".join(errors))


def log_line(path, msg):
    """Appends "user-data: MSG" to the log at PATH (a server's user-data.log)."""
    with open(path, "a") as fp:
        fp.write("%s user-data: %s\n" % (time.strftime("%H:%M:%S"), msg))


def read_json(path, default):
    try:
        with open(path) as fp:
            return json.load(fp)
    except (FileNotFoundError, ValueError):
        return default


# -- the hook compute.py loads ("agent": "dataplane:Agent") --
class Agent:
    """Runs inside compute: plug() waits for the agent to report the server's namespace and sshd up."""

    def __init__(self, cfg):
        self.dir = os.path.dirname(os.path.dirname(os.path.abspath(cfg["state_file"])))
        self.delay = float(cfg.get("boot_delay", 0))
        self.timeout = float(cfg.get("plug_timeout", 60))

    def status(self):
        return read_json(os.path.join(self.dir, "dataplane", "status.json"), {})

    def plug(self, server, ports, deleting=lambda: False):
        booted = time.monotonic() + self.delay
        while time.monotonic() < booted and not deleting():
            time.sleep(min(0.05, max(0.0, booted - time.monotonic())))
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            if deleting():  # the agent makes no VM for a server being deleted: nothing to wait for
                return
            vm = self.status().get("vms", {}).get(server["id"])
            if vm and vm.get("state") == "ready":
                return
            if vm and vm.get("state") == "error":
                raise RuntimeError(vm.get("error", "the data path failed"))
            time.sleep(0.05)
        raise RuntimeError("the data path did not make the server within %g s" % self.timeout)

    def unplug(self, server):
        end = time.monotonic() + 20
        while time.monotonic() < end and server["id"] in self.status().get("vms", {}):
            time.sleep(0.05)


# -- called by `minicloud up` and `minicloud fault` --
def start(d, spawn, ledger, computes, delay_ms, deadline, tenant_routes=False):
    """Starts the agent as one of the cloud's services and waits until its fixed plumbing is up."""
    os.makedirs(os.path.join(d, "dataplane"), exist_ok=True)
    p = spawn(d, ledger, "dataplane", [sys.executable, os.path.abspath(__file__), d, "--computes", str(computes),
                                       "--inter-node-delay", str(delay_ms)] +
              (["--tenant-routes"] if tenant_routes else []))
    while not read_json(os.path.join(d, "dataplane", "status.json"), {}).get("base"):
        if p.poll() is not None:
            raise RuntimeError("dataplane exited with status %s (see log/dataplane.log)" % p.returncode)
        if time.monotonic() > deadline:
            raise RuntimeError("dataplane does not start")
        time.sleep(0.05)
    return p


def kill_sshd(d, server):
    """Stops the sshd of SERVER (name or id): the fault a VM whose SSH daemon died shows."""
    servers = read_json(os.path.join(d, "compute", "state.json"), {}).get("servers", [])
    found = [s for s in servers if s["id"] == server] or [s for s in servers if s["name"] == server]
    if len(found) != 1:
        raise RuntimeError("%s: %s" % (server, "no such server" if not found else "several servers by that name"))
    vm = read_json(os.path.join(d, "dataplane", "status.json"), {}).get("vms", {}).get(found[0]["id"])
    if not vm or not vm.get("sshd_pid"):
        raise RuntimeError("%s: no sshd" % server)
    pid = vm["sshd_pid"]
    if start_time(pid) != vm.get("sshd_start"):
        raise RuntimeError("%s: sshd is not running" % server)
    os.kill(pid, signal.SIGTERM)


# -- the agent --
def plen(cidr):
    return ipaddress.ip_network(cidr).prefixlen


# ICMPv6 types every port takes in whatever its groups say: multicast listener query, router solicitation
# and advertisement, neighbour solicitation and advertisement (neighbour discovery)
ND_TYPES = (130, 133, 134, 135, 136)


def rule_match(rule, v6):
    """The iptables (V6: ip6tables) match of a security group rule's protocol and port or ICMP range."""
    match = []
    proto = rule.get("protocol")
    if proto in (None, "any", "0"):
        return match
    lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
    if v6 and proto in ("icmp", "icmpv6", "ipv6-icmp", "58"):  # Neutron's legacy names for ICMPv6
        match += ["-p", "ipv6-icmp"]
        if lo is not None:
            match += ["-m", "icmp6", "--icmpv6-type", "%d/%d" % (lo, hi) if hi is not None else str(lo)]
        return match
    match += ["-p", {"icmpv4": "icmp"}.get(proto, proto)]
    if not v6 and proto in ("icmp", "1", "icmpv4"):
        if lo is not None:
            match += ["-m", "icmp", "--icmp-type", "%d/%d" % (lo, hi) if hi is not None else str(lo)]
    elif proto in ("tcp", "udp", "sctp", "dccp", "6", "17") and lo is not None:
        name = {"6": "tcp", "17": "udp"}.get(proto, proto)
        match += ["-m", name, "--dport", str(lo) if hi in (None, lo) else "%d:%d" % (lo, hi)]
    return match


def addrs6(port, subnets6, config_drive=False, router=False):
    """The IPv6 fixed IPs of PORT that its VM (or with ROUTER, its router) has on the wire: Neutron chose
    each (the EUI-64 address of the MAC on a slaac or dhcpv6-stateless subnet, a leased one on a
    dhcpv6-stateful subnet); the VM takes it as SLAAC or DHCPv6 would, with the subnet's prefix on-link (the
    router advertises it) and its gateway_ip as default router. On a subnet with neither ipv6_ra_mode nor
    ipv6_address_mode nothing on the wire hands the address out: only a config drive's network data does.
    A router's interface always has its addresses (the L3 agent sets them)."""
    out = []
    for f in port["fixed_ips"]:
        sub = subnets6.get(f["subnet_id"])
        if not sub or not (router or config_drive or sub.get("ipv6_address_mode") or sub.get("ipv6_ra_mode")):
            continue
        out.append({"ip": f["ip_address"], "plen": plen(sub["cidr"]), "cidr": sub["cidr"],
                    "gw": sub.get("gateway_ip")})
    return out


def members6(ns_state):
    """Security group id -> its ports' IPv6 fixed IPs (a remote_group_id rule of ethertype IPv6 lets them in)."""
    out = {}
    for p in ns_state["ports"]:
        ips = [f["ip_address"] for f in p["fixed_ips"] if ":" in f["ip_address"]]
        for g in p.get("security_groups", []):
            out.setdefault(g, []).extend(ips)
    return out


class Reconciler:
    def __init__(self, d, computes, delay_ms, tenant_routes=False):
        self.d = d
        self.n = Names(d)
        self.p = self.n.p
        self.computes = computes
        self.delay_ms = delay_ms
        self.ledger = Ledger(d)
        self.work = os.path.join(d, "dataplane")
        ports = mclib.read_env(os.path.join(d, "ports.env"))
        pw = mclib.read_env(os.path.join(d, "secrets.env"))
        self.neutron = "http://127.0.0.1:%s" % ports["NEUTRON_PORT"]
        self.auth = mclib.ServiceAuth("http://127.0.0.1:%s" % ports["KEYSTONE_PORT"], "admin",
                                      pw["ADMIN_PASSWORD"], "admin")
        self.state_file = os.path.join(d, "compute", "state.json")
        self.api_log = os.path.join(d, "api.log")
        # what exists: key -> the spec it was built from
        self.nets, self.vms, self.sgs, self.routers, self.nats = {}, {}, {}, {}, {}
        self.sshd = {}  # server id -> Popen
        self.errors = {}  # server id -> message
        self.user_data = {}  # server id -> (its user-data script's Popen, deadline, log file) while it runs
        self.ext = None  # the external network: id, cidr, gateway
        self.wires = {}  # (network id, host) -> delaylink.py process
        self.netem = False  # whether the kernel has sch_netem (tried on the first delayed link)
        self.tenant_routes = tenant_routes
        self.routes = {}  # tenant CIDR -> next hop (a router's gateway IP), in the root namespace
        self.route_errors = {}  # tenant CIDR -> next hop that could not be routed (another's route)

    # Neutron, as admin, one list call per collection
    def get(self, path):
        for attempt in (0, 1):
            try:
                return mclib.request("GET", self.neutron + path, token=self.auth.get(), timeout=10)[1]
            except mclib.HTTPError as e:
                if e.status == 401 and attempt == 0:
                    self.auth.invalidate()
                    continue
                raise

    def neutron_state(self):
        """One list call per collection, all sent at once (Neutron takes them in turn: services.sh)."""
        colls = (("networks", "networks"), ("subnets", "subnets"), ("ports", "ports"), ("routers", "routers"),
                 ("floatingips", "floatingips"), ("security_groups", "security-groups"))
        self.auth.get()
        with concurrent.futures.ThreadPoolExecutor(len(colls)) as pool:
            got = {coll: pool.submit(self.get, "/v2.0/" + path) for coll, path in colls}
            return {coll: f.result()[coll] for coll, f in got.items()}

    def bridge(self, nid):
        """The bridge of network NID on each host: the external network's is the one routers' gateways,
        the external host and the root namespace's leg are on."""
        return self.ext["bridge"] if nid == self.ext["id"] else self.n.bridge(nid)

    def first_bridge(self, nid):
        """The first host add_net() makes NID's bridge on: the external bridge on host 1 is fixed plumbing
        (base()); on the other hosts it is made while a server there has a port on the external network."""
        return 2 if nid == self.ext["id"] else 1

    def mkns(self, name):
        self.ledger.add("netns", name)
        netns.ns_add(name)

    # -- the fixed plumbing: compute hosts, external bridge, root's leg, external host --
    def base(self):
        os.makedirs(self.work, exist_ok=True)
        nets = self.get("/v2.0/networks?router:external=True")["networks"]
        if not nets:
            raise RuntimeError("no external network")
        ext = nets[0]
        sub = self.get("/v2.0/subnets?" + urllib.parse.urlencode({"network_id": ext["id"], "ip_version": 4}))
        sub = sub["subnets"][0]
        net = ipaddress.ip_network(sub["cidr"])
        hosts = list(net.hosts())
        self.ext = {"id": ext["id"], "cidr": sub["cidr"], "gateway": sub["gateway_ip"] or str(hosts[0]),
                    "bridge": self.p + "bext", "external_host": str(hosts[1])}
        for i in range(1, self.computes + 1):
            self.mkns(self.n.host(i))
        h1, br = self.n.host(1), self.ext["bridge"]
        if self.delay_ms > 0:
            try:
                netns.ip("link", "add", self.p + "probe", "type", "dummy", ns=h1)
                netns.netem(h1, self.p + "probe", self.delay_ms)
                self.netem = True
            except NetError:
                log("no sch_netem in this kernel: delayed links go through delaylink.py")
            netns.link_del(self.p + "probe", ns=h1)
        netns.ip("link", "add", br, "type", "bridge", "mcast_snooping", "0", ns=h1)
        netns.ip("link", "set", br, "up", ns=h1)
        root_leg = self.p + "ext"
        self.ledger.add("link", root_leg)
        netns.ip("link", "add", root_leg, "type", "veth", "peer", "name", root_leg, "netns", h1)
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % root_leg, "w") as fp:
            fp.write("1")
        netns.ip_batch(["link set %s master %s up" % (root_leg, br)], ns=h1)
        netns.ip_batch(["addr add %s/%d dev %s" % (self.ext["gateway"], net.prefixlen, root_leg),
                        "link set %s up" % root_leg])
        # the external host: outside every tenant, on the external network, with its own sshd
        xh = self.p + "-xh"
        self.mkns(xh)
        leg = self.p + "xh"
        netns.ip("link", "add", leg, "type", "veth", "peer", "name", "eth0", "netns", xh, ns=h1)
        netns.ip_batch(["link set %s master %s up" % (leg, br)], ns=h1)
        netns.ip_batch(["addr add %s/%d dev eth0" % (self.ext["external_host"], net.prefixlen),
                        "link set eth0 up"], ns=xh)
        keyfile = os.path.join(self.d, "external-host.key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "minicloud-external-host",
                        "-f", keyfile], check=True, stdin=subprocess.DEVNULL)
        with open(keyfile + ".pub") as fp:
            pub = fp.read()
        self.start_sshd("external-host", xh, self.ext["external_host"], pub)
        mclib.write_atomic(os.path.join(self.d, "external-host"),
                           "login=root@%s\nkey=%s\n" % (self.ext["external_host"], keyfile))

    # -- sshd in a namespace --
    def start_sshd(self, key, ns, addr, authorized):
        wd = os.path.join(self.work, key)
        os.makedirs(wd, exist_ok=True)
        hostkey = os.path.join(wd, "ssh_host_ed25519_key")
        if not os.path.exists(hostkey):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "minicloud-" + key, "-f", hostkey],
                           check=True, stdin=subprocess.DEVNULL)
        mclib.write_atomic(os.path.join(wd, "authorized_keys"), authorized or "", 0o600)
        home = os.path.join(wd, "root")
        os.makedirs(home, mode=0o700, exist_ok=True)
        pidfile = os.path.join(wd, "sshd.pid")
        cfg = os.path.join(wd, "sshd_config")
        mclib.write_atomic(cfg, "".join("%s %s\n" % kv for kv in [
            ("ListenAddress", addr), ("Port", "22"), ("HostKey", hostkey), ("PidFile", pidfile),
            ("AuthorizedKeysFile", os.path.join(wd, "authorized_keys")),
            ("PermitRootLogin", "prohibit-password"), ("PasswordAuthentication", "no"),
            ("KbdInteractiveAuthentication", "no"), ("UsePAM", "no"), ("StrictModes", "no"),
            ("PrintMotd", "no"), ("PrintLastLog", "no"), ("UseDNS", "no"), ("MaxStartups", "100"),
            ("MaxSessions", "100"), ("Subsystem", "sftp internal-sftp")]))
        try:
            os.unlink(pidfile)
        except FileNotFoundError:
            pass
        with open(os.path.join(wd, "sshd.log"), "ab") as out:
            # its own /root, /tmp and /run (in the mount namespace `ip netns exec` makes), as a VM has: /run/sshd,
            # sshd's privilege-separation directory, exists only where the machine's sshd service ran
            p = subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", PRIVATE_RUN + VM_HOME +
                                  ' && exec "$@"', home, os.path.abspath(self.d), SSHD, "-D", "-e", "-f", cfg], stdin=subprocess.DEVNULL,
                                 stdout=out,
                                 stderr=subprocess.STDOUT, close_fds=True, env=netns.ENV)
        self.ledger.add("proc", p.pid, start_time(p.pid) or "-")
        end = time.monotonic() + 10
        while not os.path.exists(pidfile):  # sshd writes it once it listens
            if p.poll() is not None:
                raise RuntimeError("sshd exited with status %d (see dataplane/%s/sshd.log)" % (p.returncode, key))
            if time.monotonic() > end:
                p.kill()
                raise RuntimeError("sshd does not start")
            time.sleep(0.01)
        self.sshd[key] = p
        return p

    def stop_sshd(self, key):
        p = self.sshd.pop(key, None)
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # -- what should exist --
    def desired(self, ns_state, servers):
        subnets = {s["id"]: s for s in ns_state["subnets"] if s["ip_version"] == 4}
        subnets6 = {s["id"]: s for s in ns_state["subnets"] if s["ip_version"] == 6}
        nets = {n["id"]: {"id": n["id"]} for n in ns_state["networks"]
                if not n.get("router:external") and n["id"] != self.ext["id"]}
        ports_by_device = {}
        for p in ns_state["ports"]:
            ports_by_device.setdefault(p["device_id"], []).append(p)

        def addrs(p):
            out = []
            for f in p["fixed_ips"]:
                s = subnets.get(f["subnet_id"])
                if s:
                    out.append({"ip": f["ip_address"], "plen": plen(s["cidr"]), "cidr": s["cidr"],
                                "gw": s["gateway_ip"]})
            return out

        vms, sgs = {}, {}
        members = {}  # security group id -> fixed IPv4 addresses of its ports
        for p in ns_state["ports"]:
            for g in p.get("security_groups", []):
                members.setdefault(g, []).extend(a["ip"] for a in addrs(p))
        groups = {g["id"]: g for g in ns_state["security_groups"]}
        members_v6 = members6(ns_state)
        hosts = servers.get("hosts", [])
        for s in servers.get("servers", []):
            if not s.get("host") or s.get("task_state") == "deleting" or s.get("status") in ("ERROR", "SHUTOFF"):
                continue  # a stopped server is powered off: its namespace goes, and comes back on start
            if s["host"] not in hosts:
                continue
            idx = hosts.index(s["host"]) + 1
            if idx > self.computes:
                continue
            # a port on the external network is a provider network's port: on the external segment,
            # reached at its fixed IP
            ports = sorted((p for p in ports_by_device.get(s["id"], [])
                            if p["network_id"] in nets or p["network_id"] == self.ext["id"]),
                           key=lambda p: p["id"])
            vports = [{"id": p["id"], "mac": p["mac_address"], "net": p["network_id"], "addrs": addrs(p),
                       "addrs6": addrs6(p, subnets6, s.get("config_drive"))} for p in ports]
            vms[s["id"]] = {"host": idx, "key": s.get("key_data") or "", "ports": vports}
            sgs[s["id"]] = (self.sg_rules(ports, groups, members),
                            self.sg_rules(ports, groups, members_v6, True)
                            if any(p["addrs6"] for p in vports) else None)
        segments = dict(nets)
        if any(p["net"] == self.ext["id"] for vm in vms.values() for p in vm["ports"]):
            segments[self.ext["id"]] = {"id": self.ext["id"]}
        routers, nats = {}, {}
        fips = {}
        for f in ns_state["floatingips"]:
            if f.get("router_id") and f.get("port_id") and f.get("fixed_ip_address"):
                fips.setdefault(f["router_id"], []).append((f["floating_ip_address"], f["fixed_ip_address"]))
        for r in ns_state["routers"]:
            legs, gw = [], None
            for p in sorted(ports_by_device.get(r["id"], []), key=lambda p: p["id"]):
                if p["device_owner"] == "network:router_interface" and p["network_id"] in nets:
                    legs.append({"id": p["id"], "mac": p["mac_address"], "net": p["network_id"], "addrs": addrs(p),
                                 "addrs6": addrs6(p, subnets6, router=True)})
                elif p["device_owner"] == "network:router_gateway" and p["network_id"] == self.ext["id"]:
                    gw = {"id": p["id"], "mac": p["mac_address"], "addrs": addrs(p)}
            routers[r["id"]] = {"legs": legs, "gw": gw}
            info = r.get("external_gateway_info") or {}
            nats[r["id"]] = self.nat_rules(r["id"], legs, gw, info.get("enable_snat", True),
                                           sorted(fips.get(r["id"], [])))
        return segments, vms, sgs, routers, nats

    def sg_rules(self, ports, groups, members, v6=False):
        """The filter table of a VM's namespace for iptables, or with V6 for ip6tables (the rules of
        ethertype IPv6; MEMBERS then holds the groups' IPv6 fixed IPs): ingress only what its ports'
        groups allow, stateful. For IPv6, ICMPv6 multicast listener queries and neighbour discovery
        (types 130, 133-136) always come in, as Neutron's firewall lets them."""
        lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
                 "-A INPUT -i lo -j ACCEPT"]
        if v6:
            lines += ["-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type %d -j ACCEPT" % t for t in ND_TYPES]
        lines += ["-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                  "-A INPUT -m conntrack --ctstate INVALID -j DROP"]
        chains = 4
        for i, p in enumerate(ports):
            dev = "eth%d" % i
            if not p.get("port_security_enabled", True):
                lines.append("-A INPUT -i %s -j ACCEPT" % dev)
                continue
            chain = "%s-i%d" % (self.p, i)
            lines.insert(chains, ":%s - [0:0]" % chain)
            chains += 1
            lines.append("-A INPUT -i %s -j %s" % (dev, chain))
            for gid in p.get("security_groups", []):
                for rule in groups.get(gid, {}).get("security_group_rules", []):
                    if rule["direction"] != "ingress" or rule.get("ethertype", "IPv4") != ("IPv6" if v6 else "IPv4"):
                        continue
                    match = rule_match(rule, v6)
                    if rule.get("remote_group_id"):
                        sources = sorted(set(members.get(rule["remote_group_id"], [])))
                    elif rule.get("remote_ip_prefix"):
                        sources = [rule["remote_ip_prefix"]]
                    else:
                        sources = [None]
                    for src in sources:
                        lines.append(" ".join(["-A", chain] + (["-s", src] if src else []) + match + ["-j", "ACCEPT"]))
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"

    def apply_sg(self, sid, tables):
        """Loads a VM's (iptables, ip6tables or None) filter tables into its namespace."""
        netns.iptables_restore(self.n.vm(sid), tables[0])
        if tables[1] is not None:
            netns.ip6tables_restore(self.n.vm(sid), tables[1])

    def nat_rules(self, rid, legs, gw, snat, fips):
        """The router's nat table, as Neutron's L3 agent writes it: DNAT and SNAT for each floating IP,
        SNAT of internal subnets to the gateway IP, east-west traffic untouched."""
        lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                 ":POSTROUTING ACCEPT [0:0]"]
        if gw and gw["addrs"]:
            qg, gw_ip = "qg-" + gw["id"][:11], gw["addrs"][0]["ip"]
            cidrs = sorted({a["cidr"] for leg in legs for a in leg["addrs"]})
            for fip, fixed in fips:
                lines.append("-A PREROUTING -d %s/32 -j DNAT --to-destination %s" % (fip, fixed))
                lines.append("-A OUTPUT -d %s/32 -j DNAT --to-destination %s" % (fip, fixed))
            lines.append("-A POSTROUTING ! -o %s -m conntrack ! --ctstate DNAT -j ACCEPT" % qg)
            for fip, fixed in fips:
                lines.append("-A POSTROUTING -s %s/32 -j SNAT --to-source %s" % (fixed, fip))
            if snat:
                for c in cidrs:
                    lines.append("-A POSTROUTING -s %s -o %s -j SNAT --to-source %s" % (c, qg, gw_ip))
                    lines.append("-A POSTROUTING -s %s -m conntrack --ctstate DNAT -j SNAT --to-source %s"
                                 % (c, gw_ip))
        lines.append("COMMIT")
        return {"rules": "\n".join(lines) + "\n", "fips": [f for f, _ in fips]}

    # -- networks: a bridge per host, host i joined to host 1 by a veth pair, or, with a delay, by a veth
    # on each side and a wire that delays (netem when the kernel has it, else delaylink.py) --
    def add_net(self, nid):
        try:
            br = self.bridge(nid)
            for i in range(self.first_bridge(nid), self.computes + 1):
                netns.ip_batch(["link add %s type bridge mcast_snooping 0" % br, "link set %s up" % br],
                               ns=self.n.host(i))
            for i in range(2, self.computes + 1):
                lk, h1, hi = self.n.link(i, nid), self.n.host(1), self.n.host(i)
                if self.delay_ms > 0 and not self.netem:
                    wire = self.p + "w" + lk[len(self.p) + 1:]
                    for h in (h1, hi):
                        netns.ip("link", "add", lk, "type", "veth", "peer", "name", wire, ns=h)
                        netns.ip_batch(["link set %s master %s up" % (lk, br), "link set %s up" % wire], ns=h)
                    p = subprocess.Popen([sys.executable, os.path.join(HERE, "delaylink.py"), h1, wire, hi, wire,
                                          str(self.delay_ms)], stdin=subprocess.DEVNULL, close_fds=True)
                    self.ledger.add("proc", p.pid, start_time(p.pid) or "-")
                    self.wires[(nid, i)] = p
                    continue
                netns.ip("link", "add", lk, "type", "veth", "peer", "name", lk, "netns", hi, ns=h1)
                for h in (h1, hi):
                    netns.ip_batch(["link set %s master %s up" % (lk, br)], ns=h)
                    if self.delay_ms > 0:
                        netns.netem(h, lk, self.delay_ms)
        except BaseException:
            self.del_net(nid)
            raise

    def del_net(self, nid):
        for i in range(2, self.computes + 1):
            p = self.wires.pop((nid, i), None)
            if p is not None:
                p.kill()
                p.wait()
            for h in (1, i):
                netns.link_del(self.n.link(i, nid), ns=self.n.host(h))
        for i in range(self.first_bridge(nid), self.computes + 1):
            netns.link_del(self.bridge(nid), ns=self.n.host(i))

    # -- a leg: veth from a bridge on host H into namespace NS, named DEV there, with MAC and addresses --
    def add_leg(self, host, bridge, ns, tap, dev, mac, addrs):
        hns = self.n.host(host)
        netns.ip("link", "add", tap, "type", "veth", "peer", "name", dev, "netns", ns, ns=hns)
        netns.ip_batch(["link set %s master %s up" % (tap, bridge)], ns=hns)
        netns.ip_batch(["link set %s address %s" % (dev, mac)] +
                       ["addr add %s/%d dev %s" % (a["ip"], a["plen"], dev) for a in addrs] +
                       ["link set %s up" % dev], ns=ns)

    # -- servers --
    def add_vm(self, sid, spec):
        ns = self.n.vm(sid)
        self.mkns(ns)
        for i, p in enumerate(spec["ports"]):
            self.add_leg(spec["host"], self.bridge(p["net"]), ns, self.n.tap(p["id"]), "eth%d" % i, p["mac"],
                         p["addrs"])
        gws = [a for p in spec["ports"] for a in p["addrs"] if a["gw"]]
        if gws:
            netns.ip("route", "add", "default", "via", gws[0]["gw"], ns=ns)
        self.add_ipv6(ns, [("eth%d" % i, p.get("addrs6")) for i, p in enumerate(spec["ports"])])

    def add_ipv6(self, ns, legs, router=False):
        """IPv6 on a VM's or router's legs [(dev, addrs6)] that have IPv6 fixed IPs: the addresses (no DAD);
        a VM's default route via its first IPv6 gateway; a router forwards IPv6 between its legs."""
        legs = [(dev, addrs) for dev, addrs in legs if addrs]
        if not legs:
            return
        netns.ipv6_on(ns, [dev for dev, _ in legs], forwarding=router)
        lines = ["addr add %s/%d dev %s nodad" % (a["ip"], a["plen"], dev) for dev, addrs in legs for a in addrs]
        gws = [(a["gw"], dev) for dev, addrs in legs for a in addrs if a["gw"]]
        if gws and not router:
            lines.append("route add default via %s dev %s" % gws[0])
        netns.ip_batch(lines, ns=ns)

    def start_vm_sshd(self, sid, spec):
        addrs = [a["ip"] for p in spec["ports"] for a in p["addrs"]]
        if addrs:
            self.start_sshd("vm-" + sid, self.n.vm(sid), addrs[0], spec["key"])

    def del_vm(self, sid):
        self.stop_sshd("vm-" + sid)
        netns.ns_del(self.n.vm(sid))

    # -- what cloud-init does at boot: addresses from DHCP or the config drive, then the user data --
    def boot_config(self, vms, ns_state, servers):
        """Completes each server's spec in VMS with what its guest would do at boot, as cloud-init: a port's
        IPv4 address on a subnet without DHCP is configured only when the server has a config drive (its
        network_data.json); without one the port stays unaddressed, the reason in spec["no_address"]
        (device -> why, for status.json). Adds the server's user data and whether the guest can read it
        (a config drive, or an address to reach the metadata service with)."""
        records = {s["id"]: s for s in servers.get("servers", [])}
        no_dhcp = {sub["id"]: sub for sub in ns_state["subnets"] if sub["ip_version"] == 4
                   and not sub.get("enable_dhcp", True)}
        fixed = {p["id"]: p["fixed_ips"] for p in ns_state["ports"]}
        for sid, spec in vms.items():
            rec = records.get(sid, {})
            drive = bool(rec.get("config_drive"))
            spec.update(config_drive=drive, user_data=rec.get("user_data"))
            for i, port in enumerate(spec["ports"]):
                subs = {f["ip_address"]: no_dhcp[f["subnet_id"]] for f in fixed.get(port["id"], [])
                        if f["subnet_id"] in no_dhcp}
                if drive or not subs:
                    continue
                port["addrs"] = [a for a in port["addrs"] if a["ip"] not in subs]
                names = sorted({sub["name"] or sub["id"] for sub in subs.values()})
                spec.setdefault("no_address", {})["eth%d" % i] = (
                    "no address: subnet %s without DHCP and no config drive" % ", ".join(names))
            spec["datasource"] = drive or any(p["addrs"] for p in spec["ports"])

    def start_user_data(self, sid, spec):
        """Runs the server's user data as cloud-init would, once per server (a stop and start does not run it
        again): a script (#!) runs in the VM's namespaces, cwd its /root, output to dataplane/vm-ID/
        user-data.log; the server is reported ready once it ends, or is killed after USER_DATA_TIMEOUT s
        (poll_user_data). Anything else (cloud-config, MIME...) is not executed, and the log says so; nor is
        anything when the guest could not read its user data (no config drive and no address)."""
        if not spec.get("user_data"):
            return
        wd = os.path.join(self.work, "vm-" + sid)
        os.makedirs(wd, exist_ok=True)
        logf, once = os.path.join(wd, "user-data.log"), os.path.join(wd, "user-data.once")
        if os.path.exists(once):
            return
        if not spec["datasource"]:
            return log_line(logf, "not run: no datasource: no config drive, and no address to reach the "
                                  "metadata service with")
        with open(once, "w"):  # before it runs: at most once, as cloud-init's per-instance semaphore
            pass
        data = base64.b64decode(spec["user_data"])
        if not data.startswith(b"#!"):
            return log_line(logf, "not executed: not a script (no #! at its start); cloud-config and other "
                                  "formats are not run here")
        script = os.path.join(wd, "user-data")
        with open(os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700), "wb") as fp:
            fp.write(data)
        home = os.path.join(wd, "root")
        os.makedirs(home, mode=0o700, exist_ok=True)
        log_line(logf, "running (timeout %d s)" % USER_DATA_TIMEOUT)
        out = open(logf, "ab")
        try:
            # own /run, the VM's /tmp, and its /root (the directory its sshd's /root is) as working directory
            p = subprocess.Popen(["ip", "netns", "exec", self.n.vm(sid), "sh", "-c", PRIVATE_RUN + VM_HOME +
                                  ' && cd /root && exec "$@"', home, os.path.abspath(self.d), script],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, close_fds=True,
                                 env=dict(netns.ENV, HOME="/root"), cwd="/", start_new_session=True)
        except BaseException:
            out.close()
            raise
        self.ledger.add("proc", p.pid, start_time(p.pid) or "-")
        self.user_data[sid] = (p, time.monotonic() + USER_DATA_TIMEOUT, out)

    def poll_user_data(self):
        """Ends the user-data runs that finished, overran their time or whose server went; True when any
        ended (the server's status changes: booting -> ready)."""
        ended = False
        for sid, (p, deadline, _) in list(self.user_data.items()):
            rc = p.poll()
            if rc is None and sid in self.vms and time.monotonic() < deadline:
                continue
            if sid not in self.vms:  # its namespace went, and what ran in it
                self.end_user_data(sid, "ended: the server stopped or was deleted")
            elif rc is None:
                self.end_user_data(sid, "killed after %d s" % USER_DATA_TIMEOUT)
            elif rc == 0:
                self.end_user_data(sid, "finished")
            else:  # cloud-init reports a failed script and boots on
                self.end_user_data(sid, "failed (%s); the boot goes on" %
                                   ("exit status %d" % rc if rc > 0 else "signal %d" % -rc))
            ended = True
        return ended

    def end_user_data(self, sid, how):
        p, _, out = self.user_data.pop(sid)
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        out.close()
        log_line(os.path.join(self.work, "vm-" + sid, "user-data.log"), how)
        log("server %s: user data %s" % (sid, how))

    # -- routers --
    def add_router(self, rid, spec):
        ns = self.n.router(rid)
        self.mkns(ns)
        try:
            # arp_ignore: a leg answers ARP only for its own addresses (an IPv6 subnet's leg is a port of
            # its own on the same network, as Neutron makes it, and must not answer for the IPv4 leg)
            netns.sysctl(ns, {"net.ipv4.ip_forward": 1, "net.ipv4.conf.all.arp_ignore": 1})
            for leg in spec["legs"]:
                self.add_leg(1, self.n.bridge(leg["net"]), ns, self.n.tap(leg["id"]), "qr-" + leg["id"][:11],
                             leg["mac"], leg["addrs"])
            gw = spec["gw"]
            if gw:
                self.add_leg(1, self.ext["bridge"], ns, self.n.tap(gw["id"]), "qg-" + gw["id"][:11], gw["mac"],
                             gw["addrs"])
            self.add_ipv6(ns, [("qr-" + leg["id"][:11], leg.get("addrs6")) for leg in spec["legs"]], router=True)
        except BaseException:
            netns.ns_del(ns)
            raise

    def set_nat(self, rid, spec, old):
        ns = self.n.router(rid)
        gw = self.routers[rid]["gw"]
        have = set(old["fips"]) if old else set()
        added = [f for f in spec["fips"] if f not in have]
        removed = [f for f in have if f not in spec["fips"]]
        if gw:
            qg = "qg-" + gw["id"][:11]
            netns.ip_batch(["addr add %s/32 dev %s" % (f, qg) for f in added] +
                           ["addr del %s/32 dev %s" % (f, qg) for f in removed], ns=ns)
        netns.iptables_restore(ns, spec["rules"])
        for f in removed:  # flows tracked under a floating IP that went must not keep its translation
            netns.nsexec(ns, ["conntrack", "-D", "-d", f], check=False)
            netns.nsexec(ns, ["conntrack", "-D", "-q", f], check=False)
        if gw:
            for f in added:
                netns.garp(ns, qg, gw["mac"], f)

    def del_router(self, rid):
        netns.ns_del(self.n.router(rid))
        self.nats.pop(rid, None)

    # -- tenant routes (--tenant-routes): what neutron-dynamic-routing's BGP speaker advertises to the
    # operator's router, here the root namespace: each IPv4 subnet on a router with a gateway, via its gateway IP
    def sync_routes(self, routers):
        want = {}
        for rid in sorted(routers):
            gw = routers[rid]["gw"]
            if gw and gw["addrs"]:
                for leg in routers[rid]["legs"]:
                    for a in leg["addrs"]:
                        want.setdefault(str(ipaddress.ip_network(a["cidr"])), gw["addrs"][0]["ip"])
        dev, changed = self.p + "ext", False
        for cidr, via in list(self.routes.items()):
            if want.get(cidr) != via:
                netns.ip("route", "del", cidr, "via", via, "dev", dev, check=False)
                del self.routes[cidr]
                changed = True
        for cidr in [c for c in self.route_errors if want.get(c) != self.route_errors[c]]:
            del self.route_errors[cidr]
        for cidr, via in sorted(want.items()):
            if cidr in self.routes or cidr in self.route_errors:
                continue
            self.ledger.add("route", cidr, via, dev)
            try:
                netns.ip("route", "add", cidr, "via", via, "dev", dev)
            except NetError as e:  # the root namespace routes it elsewhere already (another cloud, the operator)
                log("tenant route %s via %s: %s" % (cidr, via, e))
                self.route_errors[cidr] = via
                continue
            self.routes[cidr] = via
            changed = True
        return changed

    # -- one pass --
    def cycle(self):
        t0 = time.monotonic()
        ns_state = self.neutron_state()
        self.api_ms = (time.monotonic() - t0) * 1000
        servers = read_json(self.state_file, {})
        nets, vms, sgs, routers, nats = self.desired(ns_state, servers)
        self.boot_config(vms, ns_state, servers)
        changed = False
        for sid in [s for s in self.vms if vms.get(s) != self.vms[s]]:
            self.del_vm(sid)
            del self.vms[sid]
            self.sgs.pop(sid, None)
            changed = True
        for sid in [s for s in self.errors if s not in vms]:
            del self.errors[sid]
            changed = True
        for rid in [r for r in self.routers if routers.get(r) != self.routers[r]]:
            self.del_router(rid)
            del self.routers[rid]
            changed = True
        for nid in [n for n in self.nets if n not in nets]:
            self.del_net(nid)
            del self.nets[nid]
            changed = True
        for nid in nets:
            if nid not in self.nets:
                self.add_net(nid)
                self.nets[nid] = nets[nid]
                changed = True
        for rid, spec in routers.items():
            if rid not in self.routers:
                self.add_router(rid, spec)
                self.routers[rid] = spec
                changed = True
            if self.nats.get(rid) != nats[rid]:
                self.set_nat(rid, nats[rid], self.nats.get(rid))
                self.nats[rid] = nats[rid]
                changed = True
        for sid, spec in vms.items():
            if sid in self.vms or sid in self.errors:
                if sid in self.vms and self.sgs.get(sid) != sgs[sid]:
                    self.apply_sg(sid, sgs[sid])
                    self.sgs[sid] = sgs[sid]
                    changed = True
                continue
            try:
                self.vms[sid] = spec
                self.add_vm(sid, spec)
                self.apply_sg(sid, sgs[sid])  # filtered before anything listens
                self.sgs[sid] = sgs[sid]
                self.start_vm_sshd(sid, spec)
                self.start_user_data(sid, spec)
            except (NetError, RuntimeError, OSError) as e:
                log("server %s: %s" % (sid, e))
                self.errors[sid] = str(e)
            changed = True
        if self.tenant_routes and self.sync_routes(routers):
            changed = True
        for p in self.sshd.values():
            p.poll()  # reaps an sshd that died (minicloud fault --kill-sshd)
        if changed:
            self.write_status()
        return changed

    def write_status(self):
        vms = {}
        for sid in self.vms:
            p = self.sshd.get("vm-" + sid)
            vms[sid] = {"state": "error" if sid in self.errors else "booting" if sid in self.user_data else "ready",
                        "ns": self.n.vm(sid), "host": self.n.host(self.vms[sid]["host"])}
            if self.vms[sid].get("no_address"):
                vms[sid]["no_address"] = self.vms[sid]["no_address"]
            if sid in self.errors:
                vms[sid]["error"] = self.errors[sid]
            if p is not None:
                vms[sid].update(sshd_pid=p.pid, sshd_start=start_time(p.pid))
        for sid in self.errors:
            vms.setdefault(sid, {"state": "error", "error": self.errors[sid]})
        doc = {"base": True, "prefix": self.p, "pid": os.getpid(), "external": self.ext, "vms": vms,
               "routers": {rid: self.n.router(rid) for rid in self.routers},
               "networks": {nid: self.n.bridge(nid) for nid in self.nets}, "time": time.time()}
        if self.tenant_routes:
            doc["tenant_routes"] = self.routes
        mclib.write_atomic(os.path.join(self.work, "status.json"), json.dumps(doc, indent=1))

    # -- nudges: a write through the API (api.log), compute's state file, or time --
    def run(self):
        self.base()
        self.write_status()
        log("base up: %d compute hosts, external %s via %s, delay %g ms" % (
            self.computes, self.ext["cidr"], self.p + "ext", self.delay_ms))
        seen_state, log_pos, last = None, 0, 0.0
        while True:
            nudge = False
            try:
                st = os.stat(self.state_file).st_mtime_ns
            except FileNotFoundError:
                st = None
            if st != seen_state:
                seen_state, nudge = st, True
            try:
                with open(self.api_log, "rb") as fp:
                    fp.seek(log_pos)
                    new = fp.read()
                    log_pos += len(new)
                for line in new.split(b"\n"):
                    if wiring_change(line):
                        nudge = True
            except FileNotFoundError:
                pass
            if self.poll_user_data():
                self.write_status()
            if nudge or time.monotonic() - last > FULL_POLL:
                t0 = time.monotonic()
                last = t0
                try:
                    if self.cycle():
                        log("converged in %.0f ms (reading Neutron: %.0f ms)" % ((time.monotonic() - t0) * 1000,
                                                                               self.api_ms))
                except (mclib.HTTPError, OSError, NetError, RuntimeError) as e:
                    log("cycle failed (retrying): %s" % e)
                    last = 0.0
                    time.sleep(0.2)
            time.sleep(POLL)


def wiring_change(line):
    """Whether an api.log line may change the wiring: a write to Neutron or compute, but not a tag or a
    key pair (Neutron's agents hear of neither either; each nudge costs a full read of Neutron)."""
    f = line.split()
    return (len(f) >= 3 and f[0] in (b"network", b"compute") and f[1] != b"GET"
            and b"/tags" not in f[2] and b"/os-keypairs" not in f[2])


def main():
    ap = argparse.ArgumentParser(prog="dataplane.py", usage=__doc__.split("\n\n")[0][7:])
    ap.add_argument("dir")
    ap.add_argument("--computes", type=int, default=2)
    ap.add_argument("--inter-node-delay", type=float, default=0.0)
    ap.add_argument("--tenant-routes", action="store_true")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    r = Reconciler(os.path.abspath(args.dir), args.computes, args.inter_node_delay, args.tenant_routes)
    try:
        r.run()
    finally:  # on TERM the sshds and user-data scripts go with us; `minicloud down` removes the rest from the ledger
        for key in list(r.sshd):
            r.stop_sshd(key)
        for sid in list(r.user_data):
            r.end_user_data(sid, "killed: the data-path agent stopped")


if __name__ == "__main__":
    main()
