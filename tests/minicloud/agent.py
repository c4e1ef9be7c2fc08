# agent.py: the compute hosts' agent hook: makes a server real on the machine before compute calls it ACTIVE (SPEC §9).
#
# compute.py calls plug(server, ports, deleting) in the server's boot thread once a host is chosen; when
# plug() returns the server goes ACTIVE, when it raises the server goes ERROR with the exception as its
# fault. deleting() turns true once the server is being deleted: plug() then returns at once, as Nova
# aborts a build whose instance is deleted.
# unplug(server) runs before the server's ports are deleted. Both get a copy of the server record
# (id, name, host, key_data, user_data, security_groups, ...) and Neutron's ports for it.
#
# This agent only waits the boot delay. The data-path agent (namespace per VM with sshd, bridges,
# router namespaces with NAT, iptables security groups) replaces it: set "agent": "module:Class" in the
# compute configuration, and make its plug() return only once the namespace and sshd are up.
import importlib
import time


class DelayAgent:
    """Pretends to boot: waits boot_delay seconds; nothing exists on the machine."""

    def __init__(self, cfg):
        self.delay = float(cfg.get("boot_delay", 1))

    def plug(self, server, ports, deleting=lambda: False):
        end = time.monotonic() + self.delay
        while time.monotonic() < end and not deleting():
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def unplug(self, server):
        pass


def load(cfg):
    """Returns the agent named by cfg["agent"] ("module:Class"), DelayAgent by default."""
    spec = cfg.get("agent")
    if not spec:
        return DelayAgent(cfg)
    mod, _, cls = spec.partition(":")
    return getattr(importlib.import_module(mod), cls)(cfg)
