#!/usr/bin/python3
"""fake-openstack.py SCRIPT PORTFILE - a stand-in OpenStack for tests of what
vmtp does with odd answers, without a cloud.

Listens on a free 127.0.0.1 port (written to PORTFILE).  Keystone
(POST /v3/auth/tokens) gives a token and a catalog whose identity, compute,
network and image endpoints are this server (/identity/v3, /compute,
/network, /image).  Every other request is answered by the first rule of
SCRIPT (a JSON list of [METHOD, SERVICE, PATH-REGEX, STATUS, BODY], with
"once" after them for a rule that answers one request only) whose method and
service are the request's and whose regex matches the path (after the
service's prefix, with the query); without one:
  POST   201, the request body with an "id" added to its one member (and a
         "floating_ip_address" for a floating IP): what Nova and Neutron do
  PUT    200 {} ({"port_id": ...} for add_router_interface)
  DELETE 204    GET /servers/ID 404 (gone)
  GET    200 {"<collection>": []} for a list, else 404
Every request is logged to SCRIPT.log ("METHOD SERVICE PATH").
"""
import http.server
import json
import os
import re
import sys
import threading
import uuid

script_path, port_file = sys.argv[1], sys.argv[2]
rules = json.load(open(script_path))
log = open(script_path + ".log", "a", buffering=1)
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        base = "http://127.0.0.1:%d" % self.server.server_port
        if method == "POST" and self.path.startswith("/identity/v3/auth/tokens"):
            log.write("POST identity /v3/auth/tokens\n")
            eps = [{"type": t, "name": t, "id": t, "endpoints": [
                {"id": t + i, "interface": i, "region": "RegionOne",
                 "region_id": "RegionOne", "url": base + u}
                for i in ("public", "internal", "admin")]}
                for t, u in (("identity", "/identity/v3"), ("compute", "/compute"),
                             ("network", "/network"), ("image", "/image"))]
            token = {"token": {"methods": ["password"], "catalog": eps,
                               "user": {"id": "u1", "name": "demo"},
                               "project": {"id": "p1", "name": "demo"}}}
            return self.answer(201, token, [("X-Subject-Token", "fake-token")])
        parts = self.path.split("/", 2)
        service = parts[1] if len(parts) > 1 else ""
        path = "/" + (parts[2] if len(parts) > 2 else "")
        log.write("%s %s %s\n" % (method, service, path))
        with lock:
            rule = next((r for r in rules if r[0] == method and r[1] == service
                         and re.search(r[2], path)), None)
            if rule is not None and rule[5:] == ["once"]:
                rules.remove(rule)
        if rule is not None:
            return self.answer(rule[3], rule[4])
        if method == "POST":
            try:
                req = json.loads(raw or b"{}")
            except ValueError:
                req = {}
            if isinstance(req, dict) and len(req) == 1:
                key = next(iter(req))
                item = dict(req[key]) if isinstance(req[key], dict) else {}
                item.setdefault("id", str(uuid.uuid4()))
                if key == "floatingip":
                    item["floating_ip_address"] = "203.0.113.9"
                return self.answer(201, {key: item})
            return self.answer(201, {})
        if method == "PUT":
            if path.endswith("/add_router_interface"):
                return self.answer(200, {"port_id": str(uuid.uuid4())})
            return self.answer(200, {})
        if method == "DELETE":
            return self.answer(204, None)
        if re.match(r"^/servers/[^/?]+$", path):
            return self.answer(404, {"itemNotFound": {"code": 404, "message": "gone"}})
        coll = re.match(r"^/(?:v2\.0/|v2/)?([a-z_-]+)(?:/detail)?(?:\?|$)", path)
        if coll:
            name = coll.group(1).replace("-", "_").replace("os_", "")
            return self.answer(200, {name: []})
        return self.answer(404, {"error": {"message": "not found"}})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_port)
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
