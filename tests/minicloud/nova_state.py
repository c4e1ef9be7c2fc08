# nova_state.py: the compute service's state and its operations, without HTTP (SPEC §9).
#
# Class Compute holds the servers, flavors, key pairs and quotas, schedules servers on the compute hosts
# and boots each in a thread: schedule, then the agent (agent.py) realises the server, then boot_done()
# moves BUILD to ACTIVE or ERROR; it is the one place that does, so a data-path agent gates ACTIVE simply
# by blocking in its plug() until the VM is reachable. A server's ports are created in Neutron as Nova does
# (device_id = server id, device_owner = compute:<zone>) and deleted with it. Every change is saved to the
# state file (`minicloud resources` and the data-path agent read it). Errors are Fault(code, message);
# nova_api.py turns them into Nova's fault bodies and shapes every answer.
import base64
import binascii
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import agent as agentmod
import mclib

DEFAULT_QUOTA = {"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
                 "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
                 "server_groups": 10, "server_group_members": 10}
HOST_VCPUS, HOST_RAM_MB, HOST_DISK_GB = 16, 32768, 500
# vnic types Nova serves from a PCI device (nova.network.model.VNIC_TYPES_SRIOV): a port of one of them
# makes a PCI request, which these hosts (no SR-IOV NIC, no [pci] device_spec) can never satisfy
SRIOV_VNIC_TYPES = ("direct", "macvtap", "direct-physical", "virtio-forwarder", "vdpa", "remote-managed")
# Nova's parameter_types.boolean: every spelling its schema takes for a boolean (config_drive)
BOOL_TRUE = (True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
BOOL_FALSE = (False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")  # the soft ones: 2.15
USER_DATA_MAX = 65535  # characters of base64 text (the schema's maxLength)
TAG_RE = re.compile(r"^[^,/]{1,60}$")
KEYPAIR_NAME_RE = re.compile(r"^[A-Za-z0-9 _.@-]{1,255}$")


class Fault(Exception):
    """An API error answered with Nova's fault body: {"itemNotFound": {"code": 404, "message": ...}}."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class Ctx:
    """One request's caller: token, user, project, admin or not, and the microversion asked for."""

    def __init__(self, token, info, version):
        self.token = token
        self.user_id = info["user"]["id"]
        self.project_id = info.get("project", {}).get("id", "")
        self.roles = {r["name"] for r in info.get("roles", [])}
        self.admin = "admin" in self.roles
        self.version = version

    def at_least(self, major, minor):
        return self.version >= (major, minor)


# -- policy: the one rule of this cloud, Nova's defaults for what vmtp and the client use --
def allowed(ctx, project=None, user=None):
    """True when CTX may act on what belongs to PROJECT (or to USER): an admin on anything, anyone else
    on their own project's (user's) things only. With neither given, admins only."""
    return ctx.admin or (project is not None and project == ctx.project_id) or \
        (user is not None and user == ctx.user_id)


def authorize(ctx, rule, project=None, user=None):
    """Raises Nova's 403 for policy RULE (os_compute_api:...) unless allowed(CTX, PROJECT, USER)."""
    if not allowed(ctx, project, user):
        raise Fault(403, "Policy doesn't allow %s to be performed." % rule)


def valid_tags(tags):
    return isinstance(tags, list) and len(tags) <= 50 and all(isinstance(t, str) and TAG_RE.match(t) for t in tags)


def schema_fault(field, value, message):
    """Nova's 400 for a request body its JSON schema refuses (nova.api.validation): the field, its value and
    jsonschema's message, e.g. "Invalid input for field/attribute user_data. Value: AAAA... 'AAAA...' is too long"."""
    return Fault(400, "Invalid input for field/attribute %s. Value: %s. %s" % (field, value, message))


def boot_data(s):
    """The config drive (True or False) and user data (base64 text or None) of server create request S, checked
    as Nova's schema checks them: config_drive one of parameter_types.boolean's spellings, user_data a string
    that decodes as base64 (padding checked, other characters skipped, as oslo's decode_as_bytes) of at most
    USER_DATA_MAX characters; in that order, first failure answered. A null user_data is none, as the v2
    schema Nova keeps takes it."""
    cd = s.get("config_drive", False)
    if not isinstance(cd, (bool, str)):
        raise schema_fault("config_drive", cd, "%r is not of type 'boolean', 'string'" % (cd,))
    if cd not in BOOL_TRUE + BOOL_FALSE:
        raise schema_fault("config_drive", cd, "%r is not one of %r" % (cd, list(BOOL_TRUE + BOOL_FALSE)))
    ud = s.get("user_data")
    if ud is None:
        return cd in BOOL_TRUE, None
    if not isinstance(ud, str):
        raise schema_fault("user_data", ud, "%r is not of type 'string'" % (ud,))
    try:
        base64.b64decode(ud)
    except ValueError:  # binascii.Error (padding) or non-ASCII text
        raise schema_fault("user_data", ud, "%r is not a 'base64'" % ud) from None
    if len(ud) > USER_DATA_MAX:
        raise schema_fault("user_data", ud, "%r is too long" % ud)
    return cd in BOOL_TRUE, ud


def pci_ports(server):
    """The server's ports that need a PCI device (a vnic_type Nova serves by SR-IOV). Nova makes their PCI
    requests at the API; no host here has such a device, so a server with one never builds, as on a real
    cloud without SR-IOV NICs."""
    return [p["id"] for p in server.get("ports", []) if p.get("vnic_type", "normal") in SRIOV_VNIC_TYPES]


class Compute:
    """The service's state (servers, flavors, key pairs, quotas) and every operation on it."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.lock = threading.RLock()
        self.keystone = "http://127.0.0.1:%d" % cfg["keystone_port"]
        self.neutron = "http://127.0.0.1:%d" % cfg["neutron_port"]
        self.glance = "http://127.0.0.1:%d" % cfg["glance_port"]
        self.auth = mclib.ServiceAuth(self.keystone, cfg["user"], cfg["password"])
        self.zone = cfg.get("zone", "nova")
        self.hosts = ["compute-%d" % (i + 1) for i in range(cfg["computes"])]
        self.host_ids = {h: str(uuid.uuid5(uuid.NAMESPACE_DNS, h + "." + cfg["state_file"])) for h in self.hosts}
        self.started = mclib.now_iso(micro=True)
        self.servers, self.keypairs, self.quotas = {}, {}, {}
        self.groups = {}  # server group id -> its record (members: server ids)
        self.flavors = {}
        for f in cfg.get("flavors", []):
            self.flavors[f["id"]] = dict(f, ephemeral=0, swap=0, rxtx_factor=1.0, is_public=True,
                                         description=None, extra_specs={}, disabled=False)
        self.boots = {}  # server id -> its boot thread
        self.agent = agentmod.load(cfg)
        self.save()

    # -- persistence: `minicloud resources` and the data-path agent read this file --
    def save(self):
        with self.lock:
            doc = {"servers": list(self.servers.values()), "keypairs": list(self.keypairs.values()),
                   "flavors": list(self.flavors.values()), "hosts": self.hosts,
                   "server_groups": list(self.groups.values())}
            mclib.write_atomic(self.cfg["state_file"], json.dumps(doc, indent=1, default=str), 0o600)

    # -- calls to Neutron and Glance (direct, not through the proxy: they are Nova's internal calls) --
    def net(self, method, path, body=None, token=None):
        try:
            return mclib.request(method, self.neutron + path, body, token=token or self.auth.get())[1]
        except mclib.HTTPError as e:
            if e.status == 401 and token is None:
                self.auth.invalidate()
                return mclib.request(method, self.neutron + path, body, token=self.auth.get())[1]
            raise

    def ports_of(self, server_ids):
        if not server_ids:
            return []
        q = urllib.parse.urlencode([("device_id", s) for s in server_ids])
        return self.net("GET", "/v2.0/ports?" + q)["ports"]

    # -- flavors --
    def find_flavor(self, ref):
        ref = str(ref).rstrip("/").split("/")[-1]
        with self.lock:
            return self.flavors.get(ref)

    def list_flavors(self, min_ram=None, min_disk=None):
        with self.lock:
            fl = sorted(self.flavors.values(), key=lambda f: (f["ram"], f["id"]))
        if min_ram:
            fl = [f for f in fl if f["ram"] >= int(min_ram)]
        if min_disk:
            fl = [f for f in fl if f["disk"] >= int(min_disk)]
        return fl

    def create_flavor(self, ctx, body):
        authorize(ctx, "os_compute_api:os-flavor-manage:create")
        f = body.get("flavor") if isinstance(body, dict) else None
        if not isinstance(f, dict) or not f.get("name"):
            raise Fault(400, "Invalid input for field/attribute flavor.")
        try:
            ram, vcpus, disk = int(f["ram"]), int(f["vcpus"]), int(f.get("disk", 0))
        except (KeyError, TypeError, ValueError):
            raise Fault(400, "Invalid input for field/attribute flavor: ram, vcpus and disk are integers.") from None
        fid = str(f.get("id") or uuid.uuid4())
        with self.lock:
            if fid in self.flavors or any(x["name"] == f["name"] for x in self.flavors.values()):
                raise Fault(409, "Flavor with name %s already exists." % f["name"])
            self.flavors[fid] = {"id": fid, "name": f["name"], "ram": ram, "vcpus": vcpus, "disk": disk,
                                 "ephemeral": int(f.get("OS-FLV-EXT-DATA:ephemeral", 0)),
                                 "swap": int(f.get("swap") or 0), "rxtx_factor": float(f.get("rxtx_factor", 1.0)),
                                 "is_public": bool(f.get("os-flavor-access:is_public", True)),
                                 "description": f.get("description"), "extra_specs": {}, "disabled": False}
            self.save()
            return self.flavors[fid]

    def delete_flavor(self, ctx, f):
        authorize(ctx, "os_compute_api:os-flavor-manage:delete")
        with self.lock:
            self.flavors.pop(f["id"], None)
            self.save()

    # -- key pairs (per user) --
    def keypair_user(self, ctx, query):
        """The user whose key pairs a request is about: the caller's own, or, for an admin, ?user_id's."""
        uid = query.get("user_id")
        if uid:
            authorize(ctx, "os_compute_api:os-keypairs:index", user=uid)
            return uid
        return ctx.user_id

    def list_keypairs(self, user):
        with self.lock:
            return sorted((k for (u, _), k in self.keypairs.items() if u == user), key=lambda k: k["name"])

    def find_keypair(self, user, name):
        with self.lock:
            kp = self.keypairs.get((user, name))
        if kp is None:
            raise Fault(404, "Keypair %s not found for user %s" % (name, user))
        return kp

    def create_keypair(self, ctx, body):
        """Returns the new key pair's record and its private key (None when the caller gave the public key)."""
        kp = body.get("keypair") if isinstance(body, dict) else None
        if not isinstance(kp, dict) or not isinstance(kp.get("name"), str):
            raise Fault(400, "Invalid input for field/attribute keypair.")
        name = kp["name"]
        if not KEYPAIR_NAME_RE.match(name):
            raise Fault(400, "Keypair data is invalid: Keypair name contains unsafe characters")
        ktype = kp.get("type", "ssh")
        if ktype not in ("ssh", "x509"):
            raise Fault(400, "Invalid input for field/attribute type.")
        user = ctx.user_id
        if kp.get("user_id"):
            authorize(ctx, "os_compute_api:os-keypairs:create", user=kp["user_id"])
            user = kp["user_id"]
        private = None
        pub = kp.get("public_key")
        if pub is None:
            pub, private = generate_key()
        fp = fingerprint(pub)
        with self.lock:
            if (user, name) in self.keypairs:
                raise Fault(409, "Key pair '%s' already exists." % name)
            count = sum(1 for (u, _) in self.keypairs if u == user)
            limit = self.quota(ctx.project_id)["key_pairs"]
            if count + 1 > limit >= 0:
                raise Fault(403, "Quota exceeded, too many key pairs.")
            rec = {"name": name, "public_key": pub, "fingerprint": fp, "type": ktype, "user_id": user,
                   "project_id": ctx.project_id, "created_at": mclib.now_iso(micro=True),
                   "seq": len(self.keypairs) + 1}
            self.keypairs[(user, name)] = rec
            self.save()
        return rec, private

    def delete_keypair(self, user, name):
        with self.lock:
            self.keypairs.pop((user, name), None)
            self.save()

    # -- quotas --
    def quota(self, project_id):
        q = dict(DEFAULT_QUOTA)
        if self.cfg.get("quota_servers") is not None:
            q["instances"] = self.cfg["quota_servers"]
        q.update(self.quotas.get(project_id, {}))
        return q

    def usage(self, project_id):
        with self.lock:
            mine = [s for s in self.servers.values() if s["project_id"] == project_id]
            return {"instances": len(mine), "cores": sum(s["flavor"]["vcpus"] for s in mine),
                    "ram": sum(s["flavor"]["ram"] for s in mine),
                    "key_pairs": sum(1 for k in self.keypairs.values() if k["project_id"] == project_id)}

    def set_quota(self, ctx, project_id, body):
        authorize(ctx, "os_compute_api:os-quota-sets:update")
        qs = (body or {}).get("quota_set")
        if not isinstance(qs, dict):
            raise Fault(400, "Invalid input for field/attribute quota_set.")
        new = {}
        for k, v in qs.items():
            if k in ("force",):
                continue
            if k not in DEFAULT_QUOTA or not isinstance(v, int) or v < -1:
                raise Fault(400, "Invalid input for field/attribute quota_set: %s." % k)
            new[k] = v
        with self.lock:
            self.quotas.setdefault(project_id, {}).update(new)
        return self.quota(project_id)

    def reset_quota(self, project_id):
        self.quotas.pop(project_id, None)

    # -- servers --
    def create_server(self, ctx, body):
        """Validates, checks quotas, makes the ports and starts the boot thread; returns the server record."""
        s = body.get("server") if isinstance(body, dict) else None
        if not isinstance(s, dict):
            raise Fault(400, "Invalid input for field/attribute server.")
        name = s.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise Fault(400, "Invalid input for field/attribute name.")
        config_drive, user_data = boot_data(s)
        flavor = self.find_flavor(s.get("flavorRef", ""))
        if flavor is None:
            raise Fault(400, "Flavor %s could not be found." % s.get("flavorRef"))
        image_ref = str(s.get("imageRef") or "").rstrip("/").split("/")[-1]
        if not image_ref:
            raise Fault(400, "Missing imageRef attribute")
        try:
            image = mclib.request("GET", self.glance + "/v2/images/" + urllib.parse.quote(image_ref),
                                  token=ctx.token)[1]
        except mclib.HTTPError:
            raise Fault(400, "Image %s could not be found." % image_ref) from None
        if image.get("status") != "active":
            raise Fault(400, "Image %s is not active." % image_ref)
        if "tags" in s and not ctx.at_least(2, 52):
            raise Fault(400, "Invalid input for field/attribute server. Additional properties are not "
                             "allowed ('tags' was unexpected)")
        tags = s.get("tags", [])
        if not valid_tags(tags):
            raise Fault(400, "Invalid input for field/attribute tags.")
        metadata = s.get("metadata", {})
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
                for k, v in metadata.items()):
            raise Fault(400, "Invalid input for field/attribute metadata.")
        key = None
        if s.get("key_name") is not None:
            key = self.keypairs.get((ctx.user_id, s["key_name"]))
            if key is None:
                raise Fault(400, "Invalid key_name provided.")
        zone, forced_host = self.zone, None
        az = s.get("availability_zone")
        if az:
            zone, _, forced_host = az.partition(":")
            zone = zone or self.zone
            forced_host = forced_host.split(":")[0] or None
            if zone != self.zone:
                raise Fault(400, "The requested availability zone is not available")
        if ctx.at_least(2, 74) and (s.get("host") or s.get("hypervisor_hostname")):
            authorize(ctx, "compute:servers:create:requested_destination")
            want = s.get("host") or s.get("hypervisor_hostname")
            if want not in self.hosts:
                raise Fault(400, "Compute host %s could not be found." % want)
            forced_host = want
        sg_names = s.get("security_groups") or []
        found = [self.find_security_group(ctx, g.get("name")) for g in sg_names if isinstance(g, dict)]
        sg_ids = [g["id"] for g in found]
        sg_names = [g["name"] for g in found]
        if ctx.at_least(2, 37) and "networks" not in s:
            raise Fault(400, "Invalid input for field/attribute server. Value: %s. 'networks' is a required "
                             "property" % json.dumps(s))
        group = self.hinted_group(ctx, body)
        sid = str(uuid.uuid4())
        now = mclib.now_iso()
        server = {"id": sid, "name": name, "project_id": ctx.project_id, "user_id": ctx.user_id,
                  "status": "BUILD", "vm_state": "building", "task_state": "scheduling", "power_state": 0,
                  "flavor": dict(flavor), "image_id": image["id"], "key_name": key and key["name"],
                  "key_data": key and key["public_key"], "metadata": metadata, "tags": tags,
                  "user_data": user_data, "config_drive": config_drive,
                  "availability_zone": zone, "forced_host": forced_host, "host": None, "created": now,
                  "updated": now, "launched_at": None, "fault": None, "ports": [],
                  "security_groups": sg_names or ["default"], "description": s.get("description"),
                  "access_ipv4": s.get("accessIPv4", ""), "access_ipv6": s.get("accessIPv6", ""),
                  "instance_name": "instance-%08x" % (len(self.servers) + 1), "locked": False,
                  "group": group and group["id"]}
        with self.lock:  # quota check and claim in one step, so concurrent creates cannot overshoot
            q, u = self.quota(ctx.project_id), self.usage(ctx.project_id)
            if len(metadata) > q["metadata_items"] >= 0:
                raise Fault(403, "Quota exceeded for metadata_items: Requested %d, but already used 0 of %d "
                                 "metadata_items" % (len(metadata), q["metadata_items"]))
            for res, need in (("instances", 1), ("cores", flavor["vcpus"]), ("ram", flavor["ram"])):
                if u[res] + need > q[res] >= 0:
                    raise Fault(403, "Quota exceeded for %s: Requested %d, but already used %d of %d %s"
                                % (res, need, u[res], q[res], res))
            if group is not None:
                if len(group["members"]) + 1 > q["server_group_members"] >= 0:
                    raise Fault(403, "Quota exceeded, too many servers in group")
                group["members"].append(sid)
            self.servers[sid] = server
        try:
            ports = self.allocate_ports(ctx, sid, s.get("networks"), sg_ids, zone)
        except BaseException:
            with self.lock:
                self.servers.pop(sid, None)
                self.leave_group(server)
            raise
        with self.lock:
            deleted = self.servers.get(sid) is not server or server["task_state"] == "deleting"
            if not deleted:
                server["ports"] = ports
                self.save()
        if deleted:  # deleted while its ports were being made: its destroy saw none
            self.release_ports(ports)
            raise Fault(404, "Instance %s could not be found." % sid)
        self.boots[sid] = threading.Thread(target=self.boot, args=(sid,), daemon=True)
        self.boots[sid].start()
        return server

    # -- server groups (os-server-groups): a policy the scheduler keeps among the group's members --
    def create_group(self, ctx, body):
        g = body.get("server_group") if isinstance(body, dict) else None
        if not isinstance(g, dict):
            raise Fault(400, "Invalid input for field/attribute server_group.")
        name = g.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise Fault(400, "Invalid input for field/attribute name.")
        new = ctx.at_least(2, 64)  # "policy" and "rules" replace the list "policies"
        extra = set(g) - ({"name", "policy", "rules"} if new else {"name", "policies"})
        if extra:
            raise Fault(400, "Invalid input for field/attribute server_group. Additional properties are not "
                             "allowed ('%s' was unexpected)" % sorted(extra)[0])
        if new:
            policy, rules = g.get("policy"), g.get("rules", {})
        else:
            pols = g.get("policies")
            if not isinstance(pols, list) or len(pols) != 1:
                raise Fault(400, "Invalid input for field/attribute policies.")
            policy, rules = pols[0], {}
        known = GROUP_POLICIES if ctx.at_least(2, 15) else GROUP_POLICIES[:2]
        if policy not in known:
            raise Fault(400, "Invalid input for field/attribute policy. Value: %s. %r is not one of %r"
                        % (policy, policy, list(known)))
        if not isinstance(rules, dict) or set(rules) - {"max_server_per_host"} or (
                rules and (policy != "anti-affinity" or not isinstance(rules["max_server_per_host"], int)
                           or rules["max_server_per_host"] < 1)):
            raise Fault(400, "Invalid input for field/attribute rules.")
        rec = {"id": str(uuid.uuid4()), "name": name, "policy": policy, "rules": rules, "members": [],
               "project_id": ctx.project_id, "user_id": ctx.user_id}
        with self.lock:
            q = self.quota(ctx.project_id)
            if sum(1 for x in self.groups.values() if x["project_id"] == ctx.project_id) + 1 > \
                    q["server_groups"] >= 0:
                raise Fault(403, "Quota exceeded, too many server groups.")
            self.groups[rec["id"]] = rec
            self.save()
        return rec

    def list_groups(self, ctx, query):
        with self.lock:
            items = list(self.groups.values())
        if not (ctx.admin and query.get("all_projects") not in (None, "0", "false", "False")):
            items = [g for g in items if g["project_id"] == ctx.project_id]
        return items

    def get_group(self, ctx, gid):
        with self.lock:
            g = self.groups.get(gid)
        if g is None or not allowed(ctx, project=g["project_id"]):
            raise Fault(404, "Instance group %s could not be found." % gid)
        return g

    def delete_group(self, ctx, gid):
        self.get_group(ctx, gid)
        with self.lock:
            self.groups.pop(gid, None)
            self.save()

    def hinted_group(self, ctx, body):
        """The server group a create's scheduler hint names (by id), or None; Nova's 400s otherwise."""
        hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints"))
        if hints is None:
            return None
        if not isinstance(hints, dict):
            raise Fault(400, "Invalid input for field/attribute os:scheduler_hints.")
        gid = hints.get("group")
        if gid is None:
            return None
        if not isinstance(gid, str) or not re.fullmatch(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}",
                                                         gid):
            raise Fault(400, "Invalid input for field/attribute group. Value: %s. %r is not a 'uuid'"
                        % (gid, gid))
        try:
            return self.get_group(ctx, gid)
        except Fault:
            raise Fault(400, "Instance group %s could not be found." % gid) from None

    def leave_group(self, server):
        if server and server.get("group") in self.groups:
            members = self.groups[server["group"]]["members"]
            if server["id"] in members:
                members.remove(server["id"])

    def group_filter(self, server, hosts):
        """HOSTS that server's group policy allows (ServerGroup(Anti)AffinityFilter), and a weigher for
        the soft policies (lower is better). A forced host skips the filters, as in Nova."""
        g = self.groups.get(server.get("group"))
        if g is None:
            return hosts, lambda h: 0
        count = {h: 0 for h in self.hosts}
        for m in g["members"]:
            other = self.servers.get(m)
            if m != server["id"] and other is not None and other["host"] in count:
                count[other["host"]] += 1
        policy, most = g["policy"], g["rules"].get("max_server_per_host", 1)
        if policy == "soft-anti-affinity":
            return hosts, lambda h: count[h]
        if policy == "soft-affinity":
            return hosts, lambda h: -count[h]
        if server["forced_host"]:
            return hosts, lambda h: 0
        if policy == "anti-affinity":
            return [h for h in hosts if count[h] < most], lambda h: 0
        used = [h for h in self.hosts if count[h]]
        return [h for h in hosts if not used or h in used], lambda h: 0

    def find_security_group(self, ctx, name):
        """The project's security group named NAME (or with id NAME), as Neutron gives it."""
        if re.fullmatch(r"[0-9a-f-]{36}", name or ""):
            try:
                return self.net("GET", "/v2.0/security-groups/" + name, token=ctx.token)["security_group"]
            except mclib.HTTPError:
                pass
        q = urllib.parse.urlencode({"name": name, "project_id": ctx.project_id})
        found = self.net("GET", "/v2.0/security-groups?" + q)["security_groups"]
        if len(found) != 1:
            raise Fault(400, "Unable to find security group with name or id '%s'" % name) if not found \
                else Fault(409, "Multiple security groups found matching '%s'. Use an ID to be more "
                                "specific." % name)
        return found[0]

    def allocate_ports(self, ctx, sid, networks, sg_ids, zone):
        """Creates or claims one Neutron port per requested network; undoes all of it on failure."""
        if networks == "none":
            return []
        if networks is None or networks == "auto":
            visible = self.net("GET", "/v2.0/networks", token=ctx.token)["networks"]
            mine = [n for n in visible if not n.get("router:external")]
            if not mine:
                if networks == "auto":
                    raise Fault(400, "Unable to automatically allocate a network for project %s"
                                % ctx.project_id)
                return []
            if len(mine) > 1:
                raise Fault(409, "Multiple possible networks found, use a Network ID to be more specific.")
            networks = [{"uuid": mine[0]["id"]}]
        if not isinstance(networks, list):
            raise Fault(400, "Invalid input for field/attribute networks.")
        owner = "compute:" + zone
        done = []
        try:
            for req in networks:
                if not isinstance(req, dict):
                    raise Fault(400, "Invalid input for field/attribute networks.")
                if req.get("port"):
                    try:
                        port = self.net("GET", "/v2.0/ports/" + req["port"], token=ctx.token)["port"]
                    except mclib.HTTPError:
                        raise Fault(400, "Port %s could not be found." % req["port"]) from None
                    if port.get("device_id"):
                        raise Fault(409, "Port %s is still in use." % req["port"])
                    self.net("PUT", "/v2.0/ports/" + port["id"],
                             {"port": {"device_id": sid, "device_owner": owner}})
                    done.append({"id": port["id"], "created": False,
                                 "vnic_type": port.get("binding:vnic_type", "normal")})
                    continue
                nid = req.get("uuid")
                if not nid:
                    raise Fault(400, "Bad networks format: network uuid is not in proper format (%s)" % nid)
                try:
                    self.net("GET", "/v2.0/networks/" + nid, token=ctx.token)
                except mclib.HTTPError:
                    raise Fault(400, "Network %s could not be found." % nid) from None
                p = {"network_id": nid, "device_id": sid, "device_owner": owner}
                if sg_ids:
                    p["security_groups"] = sg_ids
                if req.get("fixed_ip"):
                    p["fixed_ips"] = [{"ip_address": req["fixed_ip"]}]
                try:
                    port = self.net("POST", "/v2.0/ports", {"port": p}, token=ctx.token)["port"]
                except mclib.HTTPError as e:
                    code = {403: 403, 409: 409}.get(e.status, 400)
                    raise Fault(code, e.message()) from None
                done.append({"id": port["id"], "created": True})
        except BaseException:
            self.release_ports(done)
            raise
        return done

    def release_ports(self, ports):
        for p in ports:
            try:
                if p["created"]:
                    self.net("DELETE", "/v2.0/ports/" + p["id"])
                else:
                    self.net("PUT", "/v2.0/ports/" + p["id"], {"port": {"device_id": "", "device_owner": ""}})
            except mclib.HTTPError as e:
                if e.status != 404:
                    print("compute: cannot release port %s: %s" % (p["id"], e.message()), file=sys.stderr)

    def schedule(self, server):
        """Picks a host like Nova's filter scheduler would: forced host if any, else the least loaded."""
        f = server["flavor"]
        with self.lock:
            load = {h: [0, 0] for h in self.hosts}
            for s in self.servers.values():
                if s["host"] in load:
                    load[s["host"]][0] += s["flavor"]["vcpus"]
                    load[s["host"]][1] += s["flavor"]["ram"]
        candidates = [server["forced_host"]] if server["forced_host"] else self.hosts
        fits = [h for h in candidates if h in load and load[h][0] + f["vcpus"] <= HOST_VCPUS * 16
                and load[h][1] + f["ram"] <= HOST_RAM_MB * 1.5 and f["disk"] <= HOST_DISK_GB]
        if pci_ports(server) and not server["forced_host"]:
            return None  # PciPassthroughFilter: no host has a PCI device to give
        fits, weigh = self.group_filter(server, fits)
        if not fits:
            return None
        return min(fits, key=lambda h: (weigh(h), load[h][1], self.hosts.index(h)))

    def boots_held(self):
        """`minicloud fault --hold-boots`: a boot thread waits before it schedules its server, so that a
        test can order what a client sees of a boot (the server's port, its fault) against its own calls."""
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(self.cfg["state_file"]))),
                            "faults.json")
        try:
            with open(path) as fp:
                return bool(json.load(fp).get("hold_boots"))
        except (OSError, ValueError):
            return False

    def boot(self, sid):
        while self.boots_held() and not self.deleting(sid):
            time.sleep(0.05)
        with self.lock:
            server = self.servers.get(sid)
            if server is None:
                return
            host = self.schedule(server)
            if host is not None and not pci_ports(server):
                server["host"], server["task_state"] = host, "spawning"
                self.save()
                view = json.loads(json.dumps(server))
        if host is None or pci_ports(server):
            # Nova's conductor never reaches a compute host, so no port stays allocated to the server.
            # A forced host skips the filters, but the host's PCI claim fails and there is no other
            # host to retry on; either way the server never gets a host.
            self.release_ports(server["ports"])
            with self.lock:
                server["ports"] = []
            if host is None:
                return self.boot_done(sid, "No valid host was found. There are not enough hosts available.",
                                      "NoValidHost")
            return self.boot_done(sid, "Exceeded maximum number of retries. Exhausted all hosts available for "
                                  "retrying build failures for instance %s." % sid, "MaxRetriesExceeded")
        try:
            self.agent.plug(view, self.ports_of([sid]), lambda: self.deleting(sid))
        except Exception as e:  # the agent's failure is the server's fault, as a hypervisor's is in Nova
            return self.boot_done(sid, "Build of instance %s aborted: %s" % (sid, e), type(e).__name__)
        return self.boot_done(sid)

    def boot_done(self, sid, error=None, kind=None):
        """The one transition out of BUILD: ACTIVE when ERROR is None, else ERROR with a fault."""
        with self.lock:
            s = self.servers.get(sid)
            if s is None or s["status"] != "BUILD" or s["task_state"] == "deleting":
                return
            s["updated"] = mclib.now_iso()
            s["task_state"] = None
            if error is None:
                s.update(status="ACTIVE", vm_state="active", power_state=1, launched_at=mclib.now_iso(True))
            else:
                s.update(status="ERROR", vm_state="error", power_state=0,
                         fault={"code": 500, "created": mclib.now_iso(), "message": error,
                                "details": "%s: %s" % (kind, error)})
            self.save()

    def deleting(self, sid):
        """True once server SID is being deleted (or is gone): its boot stops waiting for the agent."""
        with self.lock:
            s = self.servers.get(sid)
            return s is None or s["task_state"] == "deleting"

    def delete_server(self, ctx, sid):
        s = self.get_server(ctx, sid)
        with self.lock:
            if s["task_state"] == "deleting":
                return
            s["task_state"] = "deleting"
            s["updated"] = mclib.now_iso()
            self.save()
        threading.Thread(target=self.destroy, args=(sid,), daemon=True).start()

    def destroy(self, sid):
        boot = self.boots.pop(sid, None)
        if boot is not None:  # the agent never unplugs a server it is still plugging
            boot.join()
        with self.lock:
            view = json.loads(json.dumps(self.servers[sid]))
        try:
            if view["host"]:
                self.agent.unplug(view)
        except Exception as e:
            print("compute: agent cannot unplug %s: %s" % (sid, e), file=sys.stderr)
        self.release_ports(view["ports"])
        with self.lock:
            self.leave_group(self.servers.pop(sid, None))
            self.save()

    def get_server(self, ctx, sid):
        """The server SID if CTX may see it (its project's, or an admin), else 404 as Nova (not 403)."""
        with self.lock:
            s = self.servers.get(sid)
        if s is None or not allowed(ctx, project=s["project_id"]):
            raise Fault(404, "Instance %s could not be found." % sid)
        return s

    def list_servers(self, ctx, query):
        with self.lock:
            items = list(self.servers.values())
        if not (ctx.admin and query.get("all_tenants") not in (None, "0", "false", "False")):
            items = [s for s in items if s["project_id"] == ctx.project_id]
        elif query.get("project_id") or query.get("tenant_id"):
            pid = query.get("project_id") or query.get("tenant_id")
            items = [s for s in items if s["project_id"] == pid]
        if query.get("name"):
            try:
                rx = re.compile(query["name"])
            except re.error:
                raise Fault(400, "Invalid regular expression in filter name") from None
            items = [s for s in items if rx.search(s["name"])]
        if query.get("status"):
            items = [s for s in items if s["status"] == query["status"].upper()]
        if query.get("host") and ctx.admin:
            items = [s for s in items if s["host"] == query["host"]]
        if query.get("availability_zone"):
            items = [s for s in items if s["availability_zone"] == query["availability_zone"]]
        if ctx.at_least(2, 26):
            for key, want_all, negate in (("tags", True, False), ("tags-any", False, False),
                                          ("not-tags", True, True), ("not-tags-any", False, True)):
                if query.get(key):
                    want = set(query[key].split(","))
                    test = (lambda t, w=want: w <= set(t)) if want_all else (lambda t, w=want: bool(w & set(t)))
                    items = [s for s in items if test(s["tags"]) != negate]
        items.sort(key=lambda s: s["created"], reverse=True)
        if query.get("marker"):
            ids = [s["id"] for s in items]
            if query["marker"] not in ids:
                raise Fault(400, "marker [%s] not found" % query["marker"])
            items = items[ids.index(query["marker"]) + 1:]
        if query.get("limit"):
            try:
                items = items[:int(query["limit"])]
            except ValueError:
                raise Fault(400, "limit param must be an integer") from None
        return items

    def update_server(self, ctx, s, upd):
        with self.lock:
            if "name" in upd:
                s["name"] = upd["name"]
            if "description" in upd and ctx.at_least(2, 19):
                s["description"] = upd["description"]
            s["updated"] = mclib.now_iso()
            self.save()

    def server_action(self, s, name):
        """os-stop, os-start or reboot; 409 when the server's state does not allow it."""
        with self.lock:
            if name == "os-stop":
                if s["status"] != "ACTIVE":
                    raise Fault(409, "Cannot 'stop' instance %s while it is in vm_state %s" % (s["id"], s["vm_state"]))
                s.update(status="SHUTOFF", vm_state="stopped", power_state=4)
            elif name == "os-start":
                if s["status"] != "SHUTOFF":
                    raise Fault(409, "Cannot 'start' instance %s while it is in vm_state %s" % (s["id"], s["vm_state"]))
                s.update(status="ACTIVE", vm_state="active", power_state=1)
            elif name in ("reboot",):
                if s["status"] not in ("ACTIVE", "SHUTOFF"):
                    raise Fault(409, "Cannot 'reboot' instance %s while it is in vm_state %s" % (s["id"], s["vm_state"]))
                s.update(status="ACTIVE", vm_state="active", power_state=1)
            else:
                raise Fault(400, "There is no such action: %s" % name)
            s["updated"] = mclib.now_iso()
            self.save()

    # -- server tags (2.26+) --
    def set_tags(self, s, tags):
        with self.lock:
            if not valid_tags(tags):
                raise Fault(400, "Invalid input for field/attribute tags.")
            s["tags"] = list(dict.fromkeys(tags))
            self.save()
            return s["tags"]

    def clear_tags(self, s):
        with self.lock:
            s["tags"] = []
            self.save()

    def has_tag(self, s, tag):
        with self.lock:
            if tag not in s["tags"]:
                raise Fault(404, "Tag %s could not be found." % tag)

    def add_tag(self, s, tag):
        """Adds TAG; False when the server had it already."""
        with self.lock:
            if not TAG_RE.match(tag):
                raise Fault(400, "Invalid input for field/attribute tag.")
            if tag in s["tags"]:
                return False
            if len(s["tags"]) >= 50:
                raise Fault(400, "The number of tags exceeded the per-server limit 50")
            s["tags"].append(tag)
            self.save()
            return True

    def remove_tag(self, s, tag):
        with self.lock:
            if tag not in s["tags"]:
                raise Fault(404, "Tag %s could not be found." % tag)
            s["tags"].remove(tag)
            self.save()

    # -- Neutron's view of servers --
    def addresses(self, servers):
        """Nova's addresses for each server: its ports' fixed IPs, and floating IPs on them, by network name;
        and the servers' ports by id."""
        ports = self.ports_of([s["id"] for s in servers])
        out = {s["id"]: {} for s in servers}
        if not ports:
            return out, {}
        nets = self.net("GET", "/v2.0/networks?" + urllib.parse.urlencode(
            [("id", i) for i in {p["network_id"] for p in ports}]))["networks"]
        names = {n["id"]: n["name"] for n in nets}
        fips = self.net("GET", "/v2.0/floatingips?" + urllib.parse.urlencode(
            [("port_id", p["id"]) for p in ports]))["floatingips"]
        by_port = {}
        for f in fips:
            by_port.setdefault(f["port_id"], []).append(f)
        order = {s["id"]: [p["id"] for p in s["ports"]] for s in servers}
        ports.sort(key=lambda p: order.get(p["device_id"], []).index(p["id"])
                   if p["id"] in order.get(p["device_id"], []) else 99)
        for p in ports:
            if p["device_id"] not in out:
                continue
            lst = out[p["device_id"]].setdefault(names.get(p["network_id"], p["network_id"]), [])
            for ip in p["fixed_ips"]:
                lst.append({"version": 6 if ":" in ip["ip_address"] else 4, "addr": ip["ip_address"],
                            "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p["mac_address"]})
            for f in by_port.get(p["id"], []):
                lst.append({"version": 4, "addr": f["floating_ip_address"], "OS-EXT-IPS:type": "floating",
                            "OS-EXT-IPS-MAC:mac_addr": p["mac_address"]})
        return out, {p["id"]: p for p in ports}

    # -- hosts --
    def host_usage(self):
        with self.lock:
            use = {h: {"vcpus": 0, "ram": 0, "disk": 0, "n": 0} for h in self.hosts}
            for s in self.servers.values():
                if s["host"] in use:
                    u = use[s["host"]]
                    u["vcpus"] += s["flavor"]["vcpus"]
                    u["ram"] += s["flavor"]["ram"]
                    u["disk"] += s["flavor"]["disk"]
                    u["n"] += 1
        return use


def fingerprint(pub):
    parts = pub.strip().split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise Fault(400, "Keypair data is invalid: failed to generate fingerprint")
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise Fault(400, "Keypair data is invalid: failed to generate fingerprint") from None
    d = hashlib.md5(raw).hexdigest()
    return ":".join(d[i:i + 2] for i in range(0, 32, 2))


def generate_key():
    """A new RSA key pair as Nova made before 2.92: (public key line, private key PEM)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-C",
                        "Generated-by-Nova", "-f", path], check=True, stdin=subprocess.DEVNULL)
        with open(path) as fp:
            private = fp.read()
        with open(path + ".pub") as fp:
            public = fp.read().strip()
    return public, private
