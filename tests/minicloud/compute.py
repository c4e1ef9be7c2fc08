# compute.py: minicloud's compute service, the subset of Nova's v2.1 API that vmtp and the openstack client use (SPEC §9).
#
# Usage: compute.py CONFIG.json   (written by `minicloud up`; holds ports, the service password, computes, boot delay)
#
# Shapes, status codes and fault bodies follow Nova's API reference, microversions 2.1 to 2.79. Tokens are
# validated with Keystone; a server's ports are created in Neutron as Nova does (device_id = server id,
# device_owner = compute:<zone>) and deleted with it. Booting happens in a thread: schedule, then the agent
# (agent.py) realises the server, then boot_done() moves BUILD to ACTIVE or ERROR; it is the one place
# that does, so a data-path agent gates ACTIVE simply by blocking in its plug() until the VM is reachable.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import agent as agentmod
import mclib

MIN_VERSION, MAX_VERSION = (2, 1), (2, 79)
FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
               429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
DEFAULT_QUOTA = {"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100, "metadata_items": 128,
                 "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
                 "server_groups": 10, "server_group_members": 10}
HOST_VCPUS, HOST_RAM_MB, HOST_DISK_GB = 16, 32768, 500
# vnic types Nova serves from a PCI device (nova.network.model.VNIC_TYPES_SRIOV): a port of one of them
# makes a PCI request, which these hosts (no SR-IOV NIC, no [pci] device_spec) can never satisfy
SRIOV_VNIC_TYPES = ("direct", "macvtap", "direct-physical", "virtio-forwarder", "vdpa", "remote-managed")
TAG_RE = re.compile(r"^[^,/]{1,60}$")
KEYPAIR_NAME_RE = re.compile(r"^[A-Za-z0-9 _.@-]{1,255}$")


def pci_ports(server):
    """The server's ports that need a PCI device (a vnic_type Nova serves by SR-IOV). Nova makes their PCI
    requests at the API; no host here has such a device, so a server with one never builds, as on a real
    cloud without SR-IOV NICs."""
    return [p["id"] for p in server.get("ports", []) if p.get("vnic_type", "normal") in SRIOV_VNIC_TYPES]


class Server(ThreadingHTTPServer):
    """An API endpoint: clients open several connections at once (vmtp-provision up to 8), so a listen
    backlog of 5 (socketserver's default) would drop their SYNs and stall them for a second."""
    request_queue_size = 128


class Fault(Exception):
    """An API error answered with Nova's fault body: {"itemNotFound": {"code": 404, "message": ...}}."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def vtuple(s):
    m = re.fullmatch(r"(\d+)\.(\d+)", s.strip())
    if not m:
        raise Fault(400, "Invalid API version request: %s" % s)
    return int(m.group(1)), int(m.group(2))


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
        self.flavors = {}
        for f in cfg.get("flavors", []):
            self.flavors[f["id"]] = dict(f, ephemeral=0, swap=0, rxtx_factor=1.0, is_public=True,
                                         description=None, extra_specs={}, disabled=False)
        self.token_cache = {}
        self.boots = {}  # server id -> its boot thread
        self.agent = agentmod.load(cfg)
        self.save()

    # -- persistence: `minicloud resources` and the next issue's agent read this file --
    def save(self):
        with self.lock:
            doc = {"servers": list(self.servers.values()), "keypairs": list(self.keypairs.values()),
                   "flavors": list(self.flavors.values()), "hosts": self.hosts}
            mclib.write_atomic(self.cfg["state_file"], json.dumps(doc, indent=1, default=str), 0o600)

    # -- identity --
    def validate(self, token, version):
        key = mclib.token_key(token)
        hit = self.token_cache.get(key)
        if hit and hit[0] > time.time():
            return Ctx(token, hit[1], version)
        for attempt in (0, 1):
            try:
                _, body, _ = mclib.request("GET", self.keystone + "/v3/auth/tokens", token=self.auth.get(),
                                           headers={"X-Subject-Token": token})
                break
            except mclib.HTTPError as e:
                if e.status == 401 and attempt == 0:
                    self.auth.invalidate()
                    continue
                raise Fault(401, "The request you have made requires authentication.") from None
        info = body["token"]
        if "project" not in info:
            raise Fault(403, "Project-scoped token required.")
        self.token_cache[key] = (min(time.time() + 30, mclib.parse_time(info["expires_at"])), info)
        return Ctx(token, info, version)

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
    def flavor_view(self, ctx, f, detail, base):
        v = {"id": f["id"], "name": f["name"], "links": self.links(base, "flavors", f["id"])}
        if ctx.at_least(2, 55):
            v["description"] = f["description"]
        if detail:
            v.update({"ram": f["ram"], "vcpus": f["vcpus"], "disk": f["disk"],
                      "OS-FLV-EXT-DATA:ephemeral": f["ephemeral"],
                      "swap": f["swap"] if ctx.at_least(2, 75) else (f["swap"] or ""),
                      "rxtx_factor": f["rxtx_factor"], "OS-FLV-DISABLED:disabled": f["disabled"],
                      "os-flavor-access:is_public": f["is_public"]})
            if ctx.at_least(2, 61):
                v["extra_specs"] = f["extra_specs"]
        return v

    def find_flavor(self, ref):
        ref = str(ref).rstrip("/").split("/")[-1]
        with self.lock:
            return self.flavors.get(ref)

    def create_flavor(self, ctx, body):
        if not ctx.admin:
            raise Fault(403, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
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

    # -- key pairs (per user) --
    def keypair_view(self, kp, full, ctx):
        v = {"name": kp["name"], "public_key": kp["public_key"], "fingerprint": kp["fingerprint"]}
        if ctx.at_least(2, 2):
            v["type"] = kp["type"]
        if full:
            v.update({"user_id": kp["user_id"], "id": kp["seq"], "created_at": kp["created_at"],
                      "deleted": False, "deleted_at": None, "updated_at": None})
        return v

    def keypair_user(self, ctx, query):
        uid = query.get("user_id")
        if uid and uid != ctx.user_id:
            if not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
            return uid
        return ctx.user_id

    def create_keypair(self, ctx, body):
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
        if kp.get("user_id") and kp["user_id"] != user:
            if not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.")
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
        v = self.keypair_view(rec, False, ctx)
        v["user_id"] = user
        if private:
            v["private_key"] = private
        return v

    # -- quotas and limits --
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

    def limits(self, ctx, project_id):
        q, u = self.quota(project_id), self.usage(project_id)
        a = {"maxTotalInstances": q["instances"], "maxTotalCores": q["cores"], "maxTotalRAMSize": q["ram"],
             "maxServerMeta": q["metadata_items"], "maxTotalKeypairs": q["key_pairs"],
             "maxServerGroups": q["server_groups"], "maxServerGroupMembers": q["server_group_members"],
             "totalInstancesUsed": u["instances"], "totalCoresUsed": u["cores"], "totalRAMUsed": u["ram"],
             "totalServerGroupsUsed": 0}
        if not ctx.at_least(2, 57):
            a.update({"maxPersonality": q["injected_files"], "maxPersonalitySize": q["injected_file_content_bytes"]})
        if not ctx.at_least(2, 39):
            a["maxImageMeta"] = 128
        if not ctx.at_least(2, 36):
            a.update({"maxSecurityGroups": 10, "maxSecurityGroupRules": 20, "totalSecurityGroupsUsed": 0,
                      "maxTotalFloatingIps": 10, "totalFloatingIpsUsed": 0})
        return {"limits": {"rate": [], "absolute": a}}

    # -- servers --
    def create_server(self, ctx, body, base):
        s = body.get("server") if isinstance(body, dict) else None
        if not isinstance(s, dict):
            raise Fault(400, "Invalid input for field/attribute server.")
        name = s.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise Fault(400, "Invalid input for field/attribute name.")
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
        if not isinstance(tags, list) or len(tags) > 50 or not all(
                isinstance(t, str) and TAG_RE.match(t) for t in tags):
            raise Fault(400, "Invalid input for field/attribute tags.")
        metadata = s.get("metadata", {})
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 255 and len(v) <= 255
                for k, v in metadata.items()):
            raise Fault(400, "Invalid input for field/attribute metadata.")
        user_data = s.get("user_data")
        if user_data is not None:
            try:
                base64.b64decode(user_data, validate=True)
            except (binascii.Error, TypeError):
                raise Fault(400, "User data needs to be valid base 64.") from None
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
            if not ctx.admin:
                raise Fault(403, "Policy doesn't allow compute:servers:create:requested_destination "
                                 "to be performed.")
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
        sid = str(uuid.uuid4())
        now = mclib.now_iso()
        server = {"id": sid, "name": name, "project_id": ctx.project_id, "user_id": ctx.user_id,
                  "status": "BUILD", "vm_state": "building", "task_state": "scheduling", "power_state": 0,
                  "flavor": dict(flavor), "image_id": image["id"], "key_name": key and key["name"],
                  "key_data": key and key["public_key"], "metadata": metadata, "tags": tags,
                  "user_data": user_data, "config_drive": bool(s.get("config_drive")),
                  "availability_zone": zone, "forced_host": forced_host, "host": None, "created": now,
                  "updated": now, "launched_at": None, "fault": None, "ports": [],
                  "security_groups": sg_names or ["default"], "description": s.get("description"),
                  "access_ipv4": s.get("accessIPv4", ""), "access_ipv6": s.get("accessIPv6", ""),
                  "instance_name": "instance-%08x" % (len(self.servers) + 1), "locked": False}
        with self.lock:  # quota check and claim in one step, so concurrent creates cannot overshoot
            q, u = self.quota(ctx.project_id), self.usage(ctx.project_id)
            if len(metadata) > q["metadata_items"] >= 0:
                raise Fault(403, "Quota exceeded for metadata_items: Requested %d, but already used 0 of %d "
                                 "metadata_items" % (len(metadata), q["metadata_items"]))
            for res, need in (("instances", 1), ("cores", flavor["vcpus"]), ("ram", flavor["ram"])):
                if u[res] + need > q[res] >= 0:
                    raise Fault(403, "Quota exceeded for %s: Requested %d, but already used %d of %d %s"
                                % (res, need, u[res], q[res], res))
            self.servers[sid] = server
        try:
            ports = self.allocate_ports(ctx, sid, s.get("networks"), sg_ids, zone)
        except BaseException:
            with self.lock:
                self.servers.pop(sid, None)
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
        out = {"id": sid, "links": self.links(base, "servers", sid), "OS-DCF:diskConfig": "MANUAL",
               "security_groups": [{"name": n} for n in server["security_groups"]]}
        if not (isinstance(body, dict) and body.get("server", {}).get("return_reservation_id")):
            out["adminPass"] = base64.b32encode(os.urandom(10)).decode()[:12]
        return out

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
        if not fits:
            return None
        return min(fits, key=lambda h: (load[h][1], self.hosts.index(h)))

    def boot(self, sid):
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
            self.agent.plug(view, self.ports_of([sid]))
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
            self.servers.pop(sid, None)
            self.save()

    def get_server(self, ctx, sid):
        with self.lock:
            s = self.servers.get(sid)
        if s is None or (s["project_id"] != ctx.project_id and not ctx.admin):
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

    def addresses(self, servers):
        """Nova's addresses for each server: its ports' fixed IPs, and floating IPs on them, by network name."""
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

    def server_view(self, ctx, s, base, addresses):
        v = {"id": s["id"], "name": s["name"], "status": s["status"], "tenant_id": s["project_id"],
             "user_id": s["user_id"], "metadata": s["metadata"],
             "hostId": hashlib.sha224((s["project_id"] + (s["host"] or "")).encode()).hexdigest()
             if s["host"] else "",
             "image": {"id": s["image_id"], "links": [{"rel": "bookmark",
                                                       "href": self.bookmark(base, "images", s["image_id"])}]},
             "created": s["created"], "updated": s["updated"], "addresses": addresses,
             "accessIPv4": s["access_ipv4"], "accessIPv6": s["access_ipv6"],
             "links": self.links(base, "servers", s["id"]), "OS-DCF:diskConfig": "MANUAL",
             "progress": 0 if s["status"] in ("BUILD", "ACTIVE") else None,
             "OS-EXT-AZ:availability_zone": s["availability_zone"] if s["host"] else "",
             "config_drive": "True" if s["config_drive"] else "", "key_name": s["key_name"],
             "OS-SRV-USG:launched_at": s["launched_at"], "OS-SRV-USG:terminated_at": None,
             "OS-EXT-STS:task_state": s["task_state"], "OS-EXT-STS:vm_state": s["vm_state"],
             "OS-EXT-STS:power_state": s["power_state"], "os-extended-volumes:volumes_attached": [],
             "security_groups": [{"name": n} for n in s["security_groups"]]}
        if v["progress"] is None:
            del v["progress"]
        f = s["flavor"]
        if ctx.at_least(2, 47):
            v["flavor"] = {"vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"],
                           "ephemeral": f["ephemeral"], "swap": f["swap"], "original_name": f["name"],
                           "extra_specs": f["extra_specs"]}
        else:
            v["flavor"] = {"id": f["id"], "links": [{"rel": "bookmark",
                                                     "href": self.bookmark(base, "flavors", f["id"])}]}
        if ctx.admin:
            v.update({"OS-EXT-SRV-ATTR:host": s["host"], "OS-EXT-SRV-ATTR:hypervisor_hostname": s["host"],
                      "OS-EXT-SRV-ATTR:instance_name": s["instance_name"]})
            if ctx.at_least(2, 3):
                v.update({"OS-EXT-SRV-ATTR:reservation_id": "r-" + s["id"][:8],
                          "OS-EXT-SRV-ATTR:launch_index": 0, "OS-EXT-SRV-ATTR:hostname": s["name"],
                          "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
                          "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                          "OS-EXT-SRV-ATTR:user_data": s["user_data"]})
        if ctx.at_least(2, 9):
            v["locked"] = s["locked"]
        if ctx.at_least(2, 73):
            v["locked_reason"] = None
        if ctx.at_least(2, 16):
            v["host_status"] = ("UP" if s["host"] else "") if ctx.admin else None
            if not ctx.admin:
                del v["host_status"]
        if ctx.at_least(2, 19):
            v["description"] = s["description"]
        if ctx.at_least(2, 26):
            v["tags"] = s["tags"]
        if ctx.at_least(2, 71):
            v["server_groups"] = []
        if s["fault"]:
            fault = dict(s["fault"])
            if not ctx.admin:
                fault.pop("details", None)
            v["fault"] = fault
        return v

    def tenant_usage(self, project_id, query):
        """os-simple-tenant-usage over the servers that exist now (deleted ones are forgotten)."""
        start = query.get("start", self.started)
        stop = query.get("end", mclib.now_iso(micro=True))
        now = time.time()
        usages = {}
        with self.lock:
            for s in self.servers.values():
                if project_id and s["project_id"] != project_id:
                    continue
                hours = max(0.0, (now - mclib.parse_time(s["created"])) / 3600)
                u = usages.setdefault(s["project_id"], {
                    "tenant_id": s["project_id"], "start": start, "stop": stop, "total_hours": 0.0,
                    "total_vcpus_usage": 0.0, "total_memory_mb_usage": 0.0, "total_local_gb_usage": 0.0,
                    "server_usages": []})
                f = s["flavor"]
                u["total_hours"] += hours
                u["total_vcpus_usage"] += hours * f["vcpus"]
                u["total_memory_mb_usage"] += hours * f["ram"]
                u["total_local_gb_usage"] += hours * f["disk"]
                if query.get("detailed") == "1" or project_id:
                    u["server_usages"].append({
                        "instance_id": s["id"], "name": s["name"], "hours": hours, "vcpus": f["vcpus"],
                        "memory_mb": f["ram"], "local_gb": f["disk"], "flavor": f["name"],
                        "tenant_id": s["project_id"], "started_at": s["created"], "ended_at": None,
                        "state": s["vm_state"], "uptime": int(hours * 3600)})
        if project_id:
            return {"tenant_usage": usages.get(project_id, {})}
        return {"tenant_usages": list(usages.values())}

    # -- hosts: availability zones, hypervisors, services --
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

    def hypervisor_view(self, ctx, host, detail):
        hid = self.host_ids[host] if ctx.at_least(2, 53) else self.hosts.index(host) + 1
        v = {"id": hid, "hypervisor_hostname": host, "state": "up", "status": "enabled"}
        if detail:
            u = self.host_usage()[host]
            v.update({"vcpus": HOST_VCPUS, "memory_mb": HOST_RAM_MB, "local_gb": HOST_DISK_GB,
                      "vcpus_used": u["vcpus"], "memory_mb_used": u["ram"] + 512, "local_gb_used": u["disk"],
                      "hypervisor_type": "minicloud", "hypervisor_version": 1, "free_ram_mb":
                      HOST_RAM_MB - u["ram"] - 512, "free_disk_gb": HOST_DISK_GB - u["disk"],
                      "current_workload": 0, "running_vms": u["n"], "disk_available_least": HOST_DISK_GB -
                      u["disk"], "host_ip": "127.0.0.1", "cpu_info": "{}",
                      "service": {"host": host, "id": self.service_id(ctx, host), "disabled_reason": None}})
        return v

    def service_id(self, ctx, host):
        if ctx.at_least(2, 53):
            return str(uuid.uuid5(uuid.NAMESPACE_URL, host + "/nova-compute" + self.cfg["state_file"]))
        return 3 + self.hosts.index(host)

    def services(self, ctx):
        out = []
        for i, (binary, host, zone) in enumerate(
                [("nova-scheduler", "controller", "internal"), ("nova-conductor", "controller", "internal")] +
                [("nova-compute", h, self.zone) for h in self.hosts]):
            sid = (str(uuid.uuid5(uuid.NAMESPACE_URL, host + "/" + binary + self.cfg["state_file"]))
                   if ctx.at_least(2, 53) else i + 1)
            v = {"id": sid, "binary": binary, "host": host, "zone": zone, "status": "enabled", "state": "up",
                 "updated_at": mclib.now_iso(micro=True), "disabled_reason": None}
            if ctx.at_least(2, 11):
                v["forced_down"] = False
            out.append(v)
        return out

    def zones(self, ctx, detail):
        if not detail:
            return [{"zoneName": self.zone, "zoneState": {"available": True}, "hosts": None}]
        ts = mclib.now_iso(micro=True)
        state = {"available": True, "active": True, "updated_at": ts}
        return [{"zoneName": "internal", "zoneState": {"available": True},
                 "hosts": {"controller": {"nova-scheduler": state, "nova-conductor": state}}},
                {"zoneName": self.zone, "zoneState": {"available": True},
                 "hosts": {h: {"nova-compute": state} for h in self.hosts}}]

    # -- links --
    @staticmethod
    def links(base, coll, ident):
        return [{"rel": "self", "href": "%s/v2.1/%s/%s" % (base, coll, ident)},
                {"rel": "bookmark", "href": "%s/%s/%s" % (base, coll, ident)}]

    @staticmethod
    def bookmark(base, coll, ident):
        return "%s/%s/%s" % (base, coll, ident)


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


class Handler(BaseHTTPRequestHandler):
    """Routes /, /v2.1 and /v2.1/<resource>... to Compute; every answer carries the microversion headers."""
    protocol_version = "HTTP/1.1"
    server_version = "minicloud-compute"
    compute = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def base(self):
        return "http://" + self.headers.get("Host", "127.0.0.1")

    def version(self):
        v = None
        for h in self.headers.get_all("OpenStack-API-Version") or []:
            for item in h.split(","):
                parts = item.split()
                if len(parts) == 2 and parts[0].lower() == "compute":
                    v = parts[1]
        if v is None:
            v = self.headers.get("X-OpenStack-Nova-API-Version")
        if v is None:
            return MIN_VERSION
        if v.strip().lower() == "latest":
            return MAX_VERSION
        t = vtuple(v)
        if not MIN_VERSION <= t <= MAX_VERSION:
            raise Fault(406, "Version %d.%d is not supported by the API. Minimum is %d.%d and maximum is %d.%d."
                        % (t + MIN_VERSION + MAX_VERSION))
        return t

    def reply(self, status, body=None, version=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if version:
            vs = "%d.%d" % version
            self.send_header("OpenStack-API-Version", "compute " + vs)
            self.send_header("X-OpenStack-Nova-API-Version", vs)
            self.send_header("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")
        self.send_header("x-openstack-request-id", "req-" + str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self, method):
        version = None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urllib.parse.urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p]
            query = dict(urllib.parse.parse_qsl(url.query))
            if not parts:
                return self.reply(200, {"versions": [self.version_doc(v) for v in ("v2.0", "v2.1")]})
            if parts[0] not in ("v2.1", "v2"):
                raise Fault(404, "The resource could not be found.")
            if len(parts) == 1:
                return self.reply(200, {"version": self.version_doc(parts[0])})
            version = self.version() if parts[0] == "v2.1" else MIN_VERSION
            token = self.headers.get("X-Auth-Token")
            if not token:
                return self.reply(401, {"error": {"code": 401, "title": "Unauthorized", "message":
                                                  "The request you have made requires authentication."}},
                                  headers={"WWW-Authenticate": "Keystone uri=\"%s\"" % self.compute.cfg.get(
                                      "public_identity", "")})
            ctx = self.compute.validate(token, version)
            parts = parts[1:]
            if parts[0] == ctx.project_id and len(parts) > 1:
                parts = parts[1:]
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise Fault(400, "Malformed request body") from None
            status, out, hdrs = self.route(ctx, method, parts, query, body)
            self.reply(status, out, version, hdrs)
        except Fault as f:
            if f.code == 401:
                return self.reply(401, {"error": {"code": 401, "title": "Unauthorized", "message": f.message}})
            self.reply(f.code, {FAULT_NAMES.get(f.code, "computeFault"): {"code": f.code, "message": f.message}},
                       version)
        except mclib.HTTPError as e:
            self.reply(500, {"computeFault": {"code": 500, "message": "Unexpected API Error: %s" % e.message()}},
                       version)
        except Exception as e:  # a bug of ours answers as Nova's does, not with a dropped connection
            print("compute: %s %s: %r" % (method, self.path, e), file=sys.stderr)
            self.reply(500, {"computeFault": {"code": 500, "message": "Unexpected API Error. %s" % type(e).__name__}},
                       version)

    def version_doc(self, vid):
        if vid == "v2.1":
            return {"id": "v2.1", "status": "CURRENT", "version": "%d.%d" % MAX_VERSION,
                    "min_version": "%d.%d" % MIN_VERSION, "updated": "2013-07-23T11:33:21Z",
                    "links": [{"rel": "self", "href": self.base() + "/v2.1/"}],
                    "media-types": [{"base": "application/json",
                                     "type": "application/vnd.openstack.compute+json;version=2.1"}]}
        return {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
                "updated": "2011-01-21T11:33:21Z", "links": [{"rel": "self", "href": self.base() + "/v2/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.compute+json;version=2"}]}

    def route(self, ctx, method, parts, query, body):
        c, base = self.compute, self.base()
        head, rest = parts[0], parts[1:]
        key = (method, head, len(rest))
        if head == "flavors":
            if key == ("GET", "flavors", 0) or (method == "GET" and rest == ["detail"]):
                detail = rest == ["detail"]
                with c.lock:
                    fl = sorted(c.flavors.values(), key=lambda f: (f["ram"], f["id"]))
                if query.get("minRam"):
                    fl = [f for f in fl if f["ram"] >= int(query["minRam"])]
                if query.get("minDisk"):
                    fl = [f for f in fl if f["disk"] >= int(query["minDisk"])]
                return 200, {"flavors": [c.flavor_view(ctx, f, detail, base) for f in fl]}, None
            if key == ("POST", "flavors", 0):
                return 200, {"flavor": c.flavor_view(ctx, c.create_flavor(ctx, body), True, base)}, None
            f = c.find_flavor(rest[0]) if rest else None
            if f is None:
                raise Fault(404, "Flavor %s could not be found." % (rest[0] if rest else ""))
            if key == ("GET", "flavors", 1):
                return 200, {"flavor": c.flavor_view(ctx, f, True, base)}, None
            if key == ("DELETE", "flavors", 1):
                if not ctx.admin:
                    raise Fault(403, "Policy doesn't allow os_compute_api:os-flavor-manage:delete to be performed.")
                with c.lock:
                    c.flavors.pop(f["id"], None)
                    c.save()
                return 202, None, None
            if method == "GET" and rest[1:] == ["os-extra_specs"]:
                return 200, {"extra_specs": f["extra_specs"]}, None
            if method == "GET" and rest[1:] == ["os-flavor-access"]:
                return 200, {"flavor_access": []}, None
        if head == "os-keypairs":
            user = c.keypair_user(ctx, query)
            if key == ("GET", "os-keypairs", 0):
                with c.lock:
                    kps = sorted((k for (u, _), k in c.keypairs.items() if u == user), key=lambda k: k["name"])
                return 200, {"keypairs": [{"keypair": c.keypair_view(k, False, ctx)} for k in kps]}, None
            if key == ("POST", "os-keypairs", 0):
                return (201 if ctx.at_least(2, 2) else 200), {"keypair": c.create_keypair(ctx, body)}, None
            if len(rest) == 1:
                with c.lock:
                    kp = c.keypairs.get((user, rest[0]))
                if kp is None:
                    raise Fault(404, "Keypair %s not found for user %s" % (rest[0], user))
                if method == "GET":
                    return 200, {"keypair": c.keypair_view(kp, True, ctx)}, None
                if method == "DELETE":
                    with c.lock:
                        c.keypairs.pop((user, rest[0]), None)
                        c.save()
                    return (204 if ctx.at_least(2, 2) else 202), None, None
        if head == "servers":
            return self.route_servers(ctx, method, rest, query, body)
        if head == "os-availability-zone":
            detail = rest == ["detail"]
            if detail and not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.")
            if method == "GET" and (not rest or detail):
                return 200, {"availabilityZoneInfo": c.zones(ctx, detail)}, None
        if head == "os-hypervisors":
            if not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.")
            if method == "GET" and (not rest or rest == ["detail"]):
                hosts = c.hosts
                if query.get("hypervisor_hostname_pattern"):
                    hosts = [h for h in hosts if query["hypervisor_hostname_pattern"] in h]
                return 200, {"hypervisors": [c.hypervisor_view(ctx, h, bool(rest)) for h in hosts]}, None
            if method == "GET" and len(rest) == 1:
                for h in c.hosts:
                    if rest[0] in (str(c.hypervisor_view(ctx, h, False)["id"]), h):
                        return 200, {"hypervisor": c.hypervisor_view(ctx, h, True)}, None
                raise Fault(404, "Hypervisor with ID %s could not be found." % rest[0])
        if head == "os-services" and method == "GET" and not rest:
            if not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-services:list to be performed.")
            svcs = c.services(ctx)
            for k in ("host", "binary"):
                if query.get(k):
                    svcs = [s for s in svcs if s[k] == query[k]]
            return 200, {"services": svcs}, None
        if head == "limits" and method == "GET" and not rest:
            pid = query.get("tenant_id") if ctx.admin and query.get("tenant_id") else ctx.project_id
            return 200, c.limits(ctx, pid), None
        if head == "os-quota-sets" and rest:
            pid = rest[0]
            if pid != ctx.project_id and not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
            if method == "GET" and rest[1:] in ([], ["defaults"]):
                q = dict(DEFAULT_QUOTA) if rest[1:] == ["defaults"] else c.quota(pid)
                return 200, {"quota_set": dict(q, id=pid)}, None
            if method == "GET" and rest[1:] == ["detail"]:
                q, u = c.quota(pid), c.usage(pid)
                return 200, {"quota_set": dict({k: {"limit": v, "in_use": u.get(k, 0), "reserved": 0}
                                                for k, v in q.items()}, id=pid)}, None
            if method == "PUT" and len(rest) == 1:
                if not ctx.admin:
                    raise Fault(403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
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
                with c.lock:
                    c.quotas.setdefault(pid, {}).update(new)
                return 200, {"quota_set": c.quota(pid)}, None
            if method == "DELETE" and len(rest) == 1 and ctx.admin:
                c.quotas.pop(pid, None)
                return 202, None, None
        if head == "os-simple-tenant-usage" and method == "GET" and len(rest) <= 1:
            if not rest and not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.")
            pid = rest[0] if rest else None
            if pid and pid != ctx.project_id and not ctx.admin:
                raise Fault(403, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.")
            return 200, c.tenant_usage(pid, query), None
        if head == "extensions" and method == "GET":
            return 200, {"extensions": []}, None
        raise Fault(404, "The resource could not be found.")

    def route_servers(self, ctx, method, rest, query, body):
        c, base = self.compute, self.base()
        if method == "POST" and not rest:
            out = c.create_server(ctx, body, base)
            return 202, {"server": out}, {"Location": out["links"][0]["href"]}
        if method == "GET" and (not rest or rest == ["detail"]):
            items = c.list_servers(ctx, query)
            if rest:
                addrs, _ = c.addresses(items)
                return 200, {"servers": [c.server_view(ctx, s, base, addrs[s["id"]]) for s in items]}, None
            return 200, {"servers": [{"id": s["id"], "name": s["name"], "links": c.links(base, "servers", s["id"])}
                                     for s in items]}, None
        if not rest:
            raise Fault(405, "The method is not allowed for this resource.")
        s = c.get_server(ctx, rest[0])
        sub = rest[1:]
        if not sub:
            if method == "GET":
                addrs, _ = c.addresses([s])
                return 200, {"server": c.server_view(ctx, s, base, addrs[s["id"]])}, None
            if method == "DELETE":
                c.delete_server(ctx, s["id"])
                return 204, None, None
            if method == "PUT":
                upd = (body or {}).get("server") or {}
                with c.lock:
                    if "name" in upd:
                        s["name"] = upd["name"]
                    if "description" in upd and ctx.at_least(2, 19):
                        s["description"] = upd["description"]
                    s["updated"] = mclib.now_iso()
                    c.save()
                addrs, _ = c.addresses([s])
                return 200, {"server": c.server_view(ctx, s, base, addrs[s["id"]])}, None
        if sub == ["metadata"] and method == "GET":
            return 200, {"metadata": s["metadata"]}, None
        if sub == ["ips"] and method == "GET":
            addrs, _ = c.addresses([s])
            return 200, {"addresses": addrs[s["id"]]}, None
        if sub == ["os-interface"] and method == "GET":
            _, ports = c.addresses([s])
            return 200, {"interfaceAttachments": [
                {"port_state": p["status"], "port_id": p["id"], "net_id": p["network_id"],
                 "mac_addr": p["mac_address"], "fixed_ips": [{"subnet_id": i["subnet_id"],
                                                             "ip_address": i["ip_address"]} for i in p["fixed_ips"]]}
                for p in ports.values()]}, None
        if sub and sub[0] == "tags":
            if not ctx.at_least(2, 26):
                raise Fault(404, "The resource could not be found.")
            with c.lock:
                if sub == ["tags"] and method == "GET":
                    return 200, {"tags": s["tags"]}, None
                if sub == ["tags"] and method == "PUT":
                    tags = (body or {}).get("tags")
                    if not isinstance(tags, list) or len(tags) > 50 or not all(
                            isinstance(t, str) and TAG_RE.match(t) for t in tags):
                        raise Fault(400, "Invalid input for field/attribute tags.")
                    s["tags"] = list(dict.fromkeys(tags))
                    c.save()
                    return 200, {"tags": s["tags"]}, None
                if sub == ["tags"] and method == "DELETE":
                    s["tags"] = []
                    c.save()
                    return 204, None, None
                if len(sub) == 2:
                    tag = urllib.parse.unquote(sub[1])
                    if method == "GET":
                        if tag not in s["tags"]:
                            raise Fault(404, "Tag %s could not be found." % tag)
                        return 204, None, None
                    if method == "PUT":
                        if not TAG_RE.match(tag):
                            raise Fault(400, "Invalid input for field/attribute tag.")
                        if tag in s["tags"]:
                            return 204, None, None
                        if len(s["tags"]) >= 50:
                            raise Fault(400, "The number of tags exceeded the per-server limit 50")
                        s["tags"].append(tag)
                        c.save()
                        return 201, None, {"Location": "%s/v2.1/servers/%s/tags/%s" % (base, s["id"], tag)}
                    if method == "DELETE":
                        if tag not in s["tags"]:
                            raise Fault(404, "Tag %s could not be found." % tag)
                        s["tags"].remove(tag)
                        c.save()
                        return 204, None, None
        if sub == ["action"] and method == "POST":
            return self.action(ctx, s, body)
        raise Fault(404, "The resource could not be found.")

    def action(self, ctx, s, body):
        c = self.compute
        name = next(iter(body or {}), None)
        with c.lock:
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
            c.save()
        return 202, None, None


def main():
    with open(sys.argv[1]) as fp:
        cfg = json.load(fp)
    Handler.compute = Compute(cfg)
    httpd = Server(("127.0.0.1", cfg["port"]), Handler)
    httpd.daemon_threads = True
    httpd.serve_forever()


if __name__ == "__main__":
    main()
