# nova_api.py: the compute service's HTTP API, Nova's v2.1 subset over nova_state.Compute (SPEC §9).
#
# Handler parses a request (versions document, microversion headers, token), finds its route in ROUTES and
# answers with the route's status, body and headers, every answer with the microversion headers. Shapes,
# status codes and fault bodies follow Nova's API reference, microversions 2.1 to 2.79. Tokens are
# validated with Keystone (cached 30 s). Views (*_view) shape the state's records for a microversion.
import base64
import hashlib
import json
import os
import re
import sys
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mclib
from nova_state import DEFAULT_QUOTA, HOST_DISK_GB, HOST_RAM_MB, HOST_VCPUS, Ctx, Fault, allowed, authorize

MIN_VERSION, MAX_VERSION = (2, 1), (2, 79)
FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
               429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable"}
NOT_FOUND = "The resource could not be found."


class Server(ThreadingHTTPServer):
    """An API endpoint: clients open several connections at once (vmtp-provision up to 8), so a listen
    backlog of 5 (socketserver's default) would drop their SYNs and stall them for a second."""
    request_queue_size = 128
    daemon_threads = True


def serve(compute, port):
    """Answers the API for COMPUTE on 127.0.0.1:PORT until the process ends."""
    Handler.compute = compute
    Handler.identity = Identity(compute)
    Server(("127.0.0.1", port), Handler).serve_forever()


def vtuple(s):
    m = re.fullmatch(r"(\d+)\.(\d+)", s.strip())
    if not m:
        raise Fault(400, "Invalid API version request: %s" % s)
    return int(m.group(1)), int(m.group(2))


class Identity:
    """Validates callers' tokens with Keystone, as the service user; a token's answer is kept 30 s."""

    def __init__(self, compute):
        self.keystone, self.auth = compute.keystone, compute.auth
        self.cache = {}

    def validate(self, token, version):
        key = mclib.token_key(token)
        hit = self.cache.get(key)
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
        self.cache[key] = (min(time.time() + 30, mclib.parse_time(info["expires_at"])), info)
        return Ctx(token, info, version)


# -- routing: ROUTES (at the end of this file) lists (method, pattern, handler, min microversion or None);
# the first route whose method ("*": any), pattern and microversion match takes the request, else 404.
# A pattern is /-separated segments: a literal, "{name}" (any one segment, passed as args[name]) or a
# final "**" (any number of segments, zero included, passed as args["rest"]).
def compile_pattern(pattern):
    return tuple(pattern.split("/"))


def match(segs, parts):
    """The arguments PARTS gives pattern SEGS, or None when it does not match."""
    args = {}
    for i, seg in enumerate(segs):
        if seg == "**":
            args["rest"] = parts[i:]
            return args
        if i >= len(parts):
            return None
        if seg.startswith("{"):
            args[seg[1:-1]] = parts[i]
        elif seg != parts[i]:
            return None
    return args if len(parts) == len(segs) else None


class Request:
    """What a route's handler gets: the caller, the path's arguments, the query, the JSON body, the base URL."""

    def __init__(self, ctx, args, query, body, base):
        self.ctx, self.args, self.query, self.body, self.base = ctx, args, query, body, base


# -- views: the shapes of the state's records, per microversion --
def links(base, coll, ident):
    return [{"rel": "self", "href": "%s/v2.1/%s/%s" % (base, coll, ident)},
            {"rel": "bookmark", "href": "%s/%s/%s" % (base, coll, ident)}]


def bookmark(base, coll, ident):
    return "%s/%s/%s" % (base, coll, ident)


def flavor_view(ctx, f, detail, base):
    v = {"id": f["id"], "name": f["name"], "links": links(base, "flavors", f["id"])}
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


def keypair_view(kp, full, ctx):
    v = {"name": kp["name"], "public_key": kp["public_key"], "fingerprint": kp["fingerprint"]}
    if ctx.at_least(2, 2):
        v["type"] = kp["type"]
    if full:
        v.update({"user_id": kp["user_id"], "id": kp["seq"], "created_at": kp["created_at"],
                  "deleted": False, "deleted_at": None, "updated_at": None})
    return v


def server_view(ctx, s, base, addresses):
    v = {"id": s["id"], "name": s["name"], "status": s["status"], "tenant_id": s["project_id"],
         "user_id": s["user_id"], "metadata": s["metadata"],
         "hostId": hashlib.sha224((s["project_id"] + (s["host"] or "")).encode()).hexdigest()
         if s["host"] else "",
         "image": {"id": s["image_id"], "links": [{"rel": "bookmark",
                                                   "href": bookmark(base, "images", s["image_id"])}]},
         "created": s["created"], "updated": s["updated"], "addresses": addresses,
         "accessIPv4": s["access_ipv4"], "accessIPv6": s["access_ipv6"],
         "links": links(base, "servers", s["id"]), "OS-DCF:diskConfig": "MANUAL",
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
        v["flavor"] = {"id": f["id"], "links": [{"rel": "bookmark", "href": bookmark(base, "flavors", f["id"])}]}
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
    if ctx.at_least(2, 16) and ctx.admin:
        v["host_status"] = "UP" if s["host"] else ""
    if ctx.at_least(2, 19):
        v["description"] = s["description"]
    if ctx.at_least(2, 26):
        v["tags"] = s["tags"]
    if ctx.at_least(2, 71):
        v["server_groups"] = [s["group"]] if s.get("group") else []
    if s["fault"]:
        fault = dict(s["fault"])
        if not ctx.admin:
            fault.pop("details", None)
        v["fault"] = fault
    return v


def group_view(ctx, g):
    v = {"id": g["id"], "name": g["name"], "members": list(g["members"])}
    if ctx.at_least(2, 64):
        v.update(policy=g["policy"], rules=g["rules"])
    else:
        v.update(policies=[g["policy"]], metadata={})
    if ctx.at_least(2, 13):
        v.update(project_id=g["project_id"], user_id=g["user_id"])
    return v


def limits_view(c, ctx, project_id):
    q, u = c.quota(project_id), c.usage(project_id)
    a = {"maxTotalInstances": q["instances"], "maxTotalCores": q["cores"], "maxTotalRAMSize": q["ram"],
         "maxServerMeta": q["metadata_items"], "maxTotalKeypairs": q["key_pairs"],
         "maxServerGroups": q["server_groups"], "maxServerGroupMembers": q["server_group_members"],
         "totalInstancesUsed": u["instances"], "totalCoresUsed": u["cores"], "totalRAMUsed": u["ram"],
         "totalServerGroupsUsed": sum(1 for g in c.groups.values() if g["project_id"] == project_id)}
    if not ctx.at_least(2, 57):
        a.update({"maxPersonality": q["injected_files"], "maxPersonalitySize": q["injected_file_content_bytes"]})
    if not ctx.at_least(2, 39):
        a["maxImageMeta"] = 128
    if not ctx.at_least(2, 36):
        a.update({"maxSecurityGroups": 10, "maxSecurityGroupRules": 20, "totalSecurityGroupsUsed": 0,
                  "maxTotalFloatingIps": 10, "totalFloatingIpsUsed": 0})
    return {"limits": {"rate": [], "absolute": a}}


def tenant_usage_view(c, project_id, query):
    """os-simple-tenant-usage over the servers that exist now (deleted ones are forgotten)."""
    start = query.get("start", c.started)
    stop = query.get("end", mclib.now_iso(micro=True))
    now = time.time()
    usages = {}
    with c.lock:
        for s in c.servers.values():
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


def hypervisor_view(c, ctx, host, detail):
    hid = c.host_ids[host] if ctx.at_least(2, 53) else c.hosts.index(host) + 1
    v = {"id": hid, "hypervisor_hostname": host, "state": "up", "status": "enabled"}
    if detail:
        u = c.host_usage()[host]
        v.update({"vcpus": HOST_VCPUS, "memory_mb": HOST_RAM_MB, "local_gb": HOST_DISK_GB,
                  "vcpus_used": u["vcpus"], "memory_mb_used": u["ram"] + 512, "local_gb_used": u["disk"],
                  "hypervisor_type": "minicloud", "hypervisor_version": 1, "free_ram_mb":
                  HOST_RAM_MB - u["ram"] - 512, "free_disk_gb": HOST_DISK_GB - u["disk"],
                  "current_workload": 0, "running_vms": u["n"], "disk_available_least": HOST_DISK_GB -
                  u["disk"], "host_ip": "127.0.0.1", "cpu_info": "{}",
                  "service": {"host": host, "id": service_id(c, ctx, host), "disabled_reason": None}})
    return v


def service_id(c, ctx, host):
    if ctx.at_least(2, 53):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, host + "/nova-compute" + c.cfg["state_file"]))
    return 3 + c.hosts.index(host)


def services_view(c, ctx):
    out = []
    for i, (binary, host, zone) in enumerate(
            [("nova-scheduler", "controller", "internal"), ("nova-conductor", "controller", "internal")] +
            [("nova-compute", h, c.zone) for h in c.hosts]):
        sid = (str(uuid.uuid5(uuid.NAMESPACE_URL, host + "/" + binary + c.cfg["state_file"]))
               if ctx.at_least(2, 53) else i + 1)
        v = {"id": sid, "binary": binary, "host": host, "zone": zone, "status": "enabled", "state": "up",
             "updated_at": mclib.now_iso(micro=True), "disabled_reason": None}
        if ctx.at_least(2, 11):
            v["forced_down"] = False
        out.append(v)
    return out


def zones_view(c, detail):
    if not detail:
        return [{"zoneName": c.zone, "zoneState": {"available": True}, "hosts": None}]
    ts = mclib.now_iso(micro=True)
    state = {"available": True, "active": True, "updated_at": ts}
    return [{"zoneName": "internal", "zoneState": {"available": True},
             "hosts": {"controller": {"nova-scheduler": state, "nova-conductor": state}}},
            {"zoneName": c.zone, "zoneState": {"available": True},
             "hosts": {h: {"nova-compute": state} for h in c.hosts}}]


class Handler(BaseHTTPRequestHandler):
    """Routes /, /v2.1 and /v2.1/<resource>... by ROUTES; every answer carries the microversion headers.
    A handler takes a Request and returns (status, body or None, extra headers or None)."""
    protocol_version = "HTTP/1.1"
    server_version = "minicloud-compute"
    compute = None
    identity = None

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
                raise Fault(404, NOT_FOUND)
            if len(parts) == 1:
                return self.reply(200, {"version": self.version_doc(parts[0])})
            version = self.version() if parts[0] == "v2.1" else MIN_VERSION
            token = self.headers.get("X-Auth-Token")
            if not token:
                return self.reply(401, {"error": {"code": 401, "title": "Unauthorized", "message":
                                                  "The request you have made requires authentication."}},
                                  headers={"WWW-Authenticate": "Keystone uri=\"%s\"" % self.compute.cfg.get(
                                      "public_identity", "")})
            ctx = self.identity.validate(token, version)
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
        for want, segs, handler, min_version in ROUTES:
            if want not in ("*", method) or (min_version and not ctx.at_least(*min_version)):
                continue
            args = match(segs, parts)
            if args is not None:
                return handler(self.compute, Request(ctx, args, query, body, self.base()))
        raise Fault(404, NOT_FOUND)


# -- the routes' handlers: (compute, request) -> (status, body, headers) --
# flavors
def list_flavors(c, r, detail=False):
    fl = c.list_flavors(r.query.get("minRam"), r.query.get("minDisk"))
    return 200, {"flavors": [flavor_view(r.ctx, f, detail, r.base) for f in fl]}, None


def list_flavors_detail(c, r):
    return list_flavors(c, r, True)


def create_flavor(c, r):
    return 200, {"flavor": flavor_view(r.ctx, c.create_flavor(r.ctx, r.body), True, r.base)}, None


def flavor(c, ref):
    f = c.find_flavor(ref) if ref else None
    if f is None:
        raise Fault(404, "Flavor %s could not be found." % (ref or ""))
    return f


def show_flavor(c, r):
    return 200, {"flavor": flavor_view(r.ctx, flavor(c, r.args["flavor"]), True, r.base)}, None


def delete_flavor(c, r):
    c.delete_flavor(r.ctx, flavor(c, r.args["flavor"]))
    return 202, None, None


def flavor_extra_specs(c, r):
    return 200, {"extra_specs": flavor(c, r.args["flavor"])["extra_specs"]}, None


def flavor_access(c, r):
    flavor(c, r.args["flavor"])
    return 200, {"flavor_access": []}, None


def flavor_other(c, r):
    """Any other request under /flavors: 404 for the flavor if it is missing, else for the resource."""
    flavor(c, r.args["rest"][0] if r.args["rest"] else None)
    raise Fault(404, NOT_FOUND)


# os-keypairs: every request under it names its user first (another user's needs an admin)
def list_keypairs(c, r):
    kps = c.list_keypairs(c.keypair_user(r.ctx, r.query))
    return 200, {"keypairs": [{"keypair": keypair_view(k, False, r.ctx)} for k in kps]}, None


def create_keypair(c, r):
    c.keypair_user(r.ctx, r.query)
    rec, private = c.create_keypair(r.ctx, r.body)
    v = keypair_view(rec, False, r.ctx)
    v["user_id"] = rec["user_id"]
    if private:
        v["private_key"] = private
    return (201 if r.ctx.at_least(2, 2) else 200), {"keypair": v}, None


def show_keypair(c, r):
    kp = c.find_keypair(c.keypair_user(r.ctx, r.query), r.args["name"])
    return 200, {"keypair": keypair_view(kp, True, r.ctx)}, None


def delete_keypair(c, r):
    user = c.keypair_user(r.ctx, r.query)
    c.find_keypair(user, r.args["name"])
    c.delete_keypair(user, r.args["name"])
    return (204 if r.ctx.at_least(2, 2) else 202), None, None


def keypair_other(c, r):
    user = c.keypair_user(r.ctx, r.query)
    if len(r.args["rest"]) == 1:
        c.find_keypair(user, r.args["rest"][0])
    raise Fault(404, NOT_FOUND)


# servers
def create_server(c, r):
    s = c.create_server(r.ctx, r.body)
    out = {"id": s["id"], "links": links(r.base, "servers", s["id"]), "OS-DCF:diskConfig": "MANUAL",
           "security_groups": [{"name": n} for n in s["security_groups"]]}
    if not (isinstance(r.body, dict) and r.body.get("server", {}).get("return_reservation_id")):
        out["adminPass"] = base64.b32encode(os.urandom(10)).decode()[:12]
    return 202, {"server": out}, {"Location": out["links"][0]["href"]}


def list_servers(c, r):
    items = c.list_servers(r.ctx, r.query)
    return 200, {"servers": [{"id": s["id"], "name": s["name"], "links": links(r.base, "servers", s["id"])}
                             for s in items]}, None


def list_servers_detail(c, r):
    items = c.list_servers(r.ctx, r.query)
    addrs, _ = c.addresses(items)
    return 200, {"servers": [server_view(r.ctx, s, r.base, addrs[s["id"]]) for s in items]}, None


def servers_bad_method(c, r):
    raise Fault(405, "The method is not allowed for this resource.")


def show_server(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    addrs, _ = c.addresses([s])
    return 200, {"server": server_view(r.ctx, s, r.base, addrs[s["id"]])}, None


def delete_server(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    c.delete_server(r.ctx, s["id"])
    return 204, None, None


def update_server(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    c.update_server(r.ctx, s, (r.body or {}).get("server") or {})
    addrs, _ = c.addresses([s])
    return 200, {"server": server_view(r.ctx, s, r.base, addrs[s["id"]])}, None


def server_metadata(c, r):
    return 200, {"metadata": c.get_server(r.ctx, r.args["server"])["metadata"]}, None


def server_ips(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    addrs, _ = c.addresses([s])
    return 200, {"addresses": addrs[s["id"]]}, None


def server_interfaces(c, r):
    _, ports = c.addresses([c.get_server(r.ctx, r.args["server"])])
    return 200, {"interfaceAttachments": [
        {"port_state": p["status"], "port_id": p["id"], "net_id": p["network_id"],
         "mac_addr": p["mac_address"], "fixed_ips": [{"subnet_id": i["subnet_id"],
                                                     "ip_address": i["ip_address"]} for i in p["fixed_ips"]]}
        for p in ports.values()]}, None


def server_tags(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    with c.lock:
        return 200, {"tags": s["tags"]}, None


def set_server_tags(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    return 200, {"tags": c.set_tags(s, (r.body or {}).get("tags"))}, None


def clear_server_tags(c, r):
    c.clear_tags(c.get_server(r.ctx, r.args["server"]))
    return 204, None, None


def check_server_tag(c, r):
    c.has_tag(c.get_server(r.ctx, r.args["server"]), urllib.parse.unquote(r.args["tag"]))
    return 204, None, None


def add_server_tag(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    tag = urllib.parse.unquote(r.args["tag"])
    if not c.add_tag(s, tag):
        return 204, None, None
    return 201, None, {"Location": "%s/v2.1/servers/%s/tags/%s" % (r.base, s["id"], tag)}


def remove_server_tag(c, r):
    c.remove_tag(c.get_server(r.ctx, r.args["server"]), urllib.parse.unquote(r.args["tag"]))
    return 204, None, None


def server_action(c, r):
    s = c.get_server(r.ctx, r.args["server"])
    c.server_action(s, next(iter(r.body or {}), None))
    return 202, None, None


def server_other(c, r):
    """Any other request under /servers/ID: 404 for the server if the caller cannot see it, else for the
    resource."""
    c.get_server(r.ctx, r.args["rest"][0])
    raise Fault(404, NOT_FOUND)


# hosts: availability zones, hypervisors, services
def zones(c, r):
    return 200, {"availabilityZoneInfo": zones_view(c, False)}, None


def zones_detail(c, r):
    authorize(r.ctx, "os_compute_api:os-availability-zone:detail")
    return 200, {"availabilityZoneInfo": zones_view(c, True)}, None


def zones_detail_other(c, r):
    authorize(r.ctx, "os_compute_api:os-availability-zone:detail")
    raise Fault(404, NOT_FOUND)


def list_hypervisors(c, r, detail=False):
    authorize(r.ctx, "os_compute_api:os-hypervisors:list")
    hosts = c.hosts
    if r.query.get("hypervisor_hostname_pattern"):
        hosts = [h for h in hosts if r.query["hypervisor_hostname_pattern"] in h]
    return 200, {"hypervisors": [hypervisor_view(c, r.ctx, h, detail) for h in hosts]}, None


def list_hypervisors_detail(c, r):
    return list_hypervisors(c, r, True)


def show_hypervisor(c, r):
    authorize(r.ctx, "os_compute_api:os-hypervisors:list")
    ref = r.args["hypervisor"]
    for h in c.hosts:
        if ref in (str(hypervisor_view(c, r.ctx, h, False)["id"]), h):
            return 200, {"hypervisor": hypervisor_view(c, r.ctx, h, True)}, None
    raise Fault(404, "Hypervisor with ID %s could not be found." % ref)


def hypervisor_other(c, r):
    authorize(r.ctx, "os_compute_api:os-hypervisors:list")
    raise Fault(404, NOT_FOUND)


def list_services(c, r):
    authorize(r.ctx, "os_compute_api:os-services:list")
    svcs = services_view(c, r.ctx)
    for k in ("host", "binary"):
        if r.query.get(k):
            svcs = [s for s in svcs if s[k] == r.query[k]]
    return 200, {"services": svcs}, None


# limits, quotas, usage
def limits(c, r):
    pid = r.query.get("tenant_id") if r.ctx.admin and r.query.get("tenant_id") else r.ctx.project_id
    return 200, limits_view(c, r.ctx, pid), None


def quota_project(r):
    """The project of /os-quota-sets/PROJECT...: the caller's own, or any for an admin."""
    pid = r.args["project"]
    authorize(r.ctx, "os_compute_api:os-quota-sets:show", project=pid)
    return pid


def show_quota(c, r):
    pid = quota_project(r)
    return 200, {"quota_set": dict(c.quota(pid), id=pid)}, None


def default_quota(c, r):
    pid = quota_project(r)
    return 200, {"quota_set": dict(DEFAULT_QUOTA, id=pid)}, None


def quota_detail(c, r):
    pid = quota_project(r)
    q, u = c.quota(pid), c.usage(pid)
    return 200, {"quota_set": dict({k: {"limit": v, "in_use": u.get(k, 0), "reserved": 0}
                                    for k, v in q.items()}, id=pid)}, None


def update_quota(c, r):
    pid = quota_project(r)
    return 200, {"quota_set": c.set_quota(r.ctx, pid, r.body)}, None


def delete_quota(c, r):
    pid = quota_project(r)
    if not allowed(r.ctx):  # a member's delete of its own project's quotas is no route (404), not a 403
        raise Fault(404, NOT_FOUND)
    c.reset_quota(pid)
    return 202, None, None


def quota_other(c, r):
    quota_project(r)
    raise Fault(404, NOT_FOUND)


def tenant_usages(c, r):
    authorize(r.ctx, "os_compute_api:os-simple-tenant-usage:list")
    return 200, tenant_usage_view(c, None, r.query), None


def tenant_usage(c, r):
    pid = r.args["project"]
    authorize(r.ctx, "os_compute_api:os-simple-tenant-usage:show", project=pid)
    return 200, tenant_usage_view(c, pid, r.query), None


# os-server-groups
def list_groups(c, r):
    return 200, {"server_groups": [group_view(r.ctx, g) for g in c.list_groups(r.ctx, r.query)]}, None


def create_group(c, r):
    return 200, {"server_group": group_view(r.ctx, c.create_group(r.ctx, r.body))}, None


def show_group(c, r):
    return 200, {"server_group": group_view(r.ctx, c.get_group(r.ctx, r.args["group"]))}, None


def delete_group(c, r):
    c.delete_group(r.ctx, r.args["group"])
    return 204, None, None


def group_other(c, r):
    if len(r.args["rest"]) == 1:
        c.get_group(r.ctx, r.args["rest"][0])
    raise Fault(404, NOT_FOUND)


def extensions(c, r):
    return 200, {"extensions": []}, None


# (method, pattern, handler, min microversion): first match wins; a request no route takes is a 404.
# The "*" routes keep Nova's answer to a path's other methods: the resource the path names is looked up
# (and the caller's right to it checked) before the request is refused.
ROUTES = [(m, compile_pattern(p), h, v) for m, p, h, v in [
    ("GET", "flavors", list_flavors, None),
    ("GET", "flavors/detail", list_flavors_detail, None),
    ("POST", "flavors", create_flavor, None),
    ("GET", "flavors/{flavor}", show_flavor, None),
    ("DELETE", "flavors/{flavor}", delete_flavor, None),
    ("GET", "flavors/{flavor}/os-extra_specs", flavor_extra_specs, None),
    ("GET", "flavors/{flavor}/os-flavor-access", flavor_access, None),
    ("*", "flavors/**", flavor_other, None),
    ("GET", "os-keypairs", list_keypairs, None),
    ("POST", "os-keypairs", create_keypair, None),
    ("GET", "os-keypairs/{name}", show_keypair, None),
    ("DELETE", "os-keypairs/{name}", delete_keypair, None),
    ("*", "os-keypairs/**", keypair_other, None),
    ("POST", "servers", create_server, None),
    ("GET", "servers", list_servers, None),
    ("GET", "servers/detail", list_servers_detail, None),
    ("*", "servers", servers_bad_method, None),
    ("GET", "servers/{server}", show_server, None),
    ("DELETE", "servers/{server}", delete_server, None),
    ("PUT", "servers/{server}", update_server, None),
    ("GET", "servers/{server}/metadata", server_metadata, None),
    ("GET", "servers/{server}/ips", server_ips, None),
    ("GET", "servers/{server}/os-interface", server_interfaces, None),
    ("GET", "servers/{server}/tags", server_tags, (2, 26)),
    ("PUT", "servers/{server}/tags", set_server_tags, (2, 26)),
    ("DELETE", "servers/{server}/tags", clear_server_tags, (2, 26)),
    ("GET", "servers/{server}/tags/{tag}", check_server_tag, (2, 26)),
    ("PUT", "servers/{server}/tags/{tag}", add_server_tag, (2, 26)),
    ("DELETE", "servers/{server}/tags/{tag}", remove_server_tag, (2, 26)),
    ("POST", "servers/{server}/action", server_action, None),
    ("*", "servers/**", server_other, None),
    ("GET", "os-availability-zone", zones, None),
    ("GET", "os-availability-zone/detail", zones_detail, None),
    ("*", "os-availability-zone/detail", zones_detail_other, None),
    ("GET", "os-hypervisors", list_hypervisors, None),
    ("GET", "os-hypervisors/detail", list_hypervisors_detail, None),
    ("GET", "os-hypervisors/{hypervisor}", show_hypervisor, None),
    ("*", "os-hypervisors/**", hypervisor_other, None),
    ("GET", "os-server-groups", list_groups, None),
    ("POST", "os-server-groups", create_group, None),
    ("GET", "os-server-groups/{group}", show_group, None),
    ("DELETE", "os-server-groups/{group}", delete_group, None),
    ("*", "os-server-groups/**", group_other, None),
    ("GET", "os-services", list_services, None),
    ("GET", "limits", limits, None),
    ("GET", "os-quota-sets/{project}", show_quota, None),
    ("GET", "os-quota-sets/{project}/defaults", default_quota, None),
    ("GET", "os-quota-sets/{project}/detail", quota_detail, None),
    ("PUT", "os-quota-sets/{project}", update_quota, None),
    ("DELETE", "os-quota-sets/{project}", delete_quota, None),
    ("*", "os-quota-sets/{project}/**", quota_other, None),
    ("GET", "os-simple-tenant-usage", tenant_usages, None),
    ("GET", "os-simple-tenant-usage/{project}", tenant_usage, None),
    ("GET", "extensions/**", extensions, None),
]]
