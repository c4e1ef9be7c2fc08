# proxy.py: minicloud's fault-injecting proxy in front of the four APIs; the catalog points here (SPEC §9).
#
# Usage: proxy.py DIR
#   Listens on PROXY_<SERVICE>_PORT of DIR/ports.env for each service and forwards to the service's own
#   port, keeping the Host header so the services' links point back at the proxy. Before each request it
#   reads DIR/faults.json (written by `minicloud fault`) and may delay, drop the connection, answer an
#   injected status (several statuses take turns), forward a POST and then drop the connection
#   instead of answering (the service created; the client never learns), or answer 401 to a token issued
#   before `--expire-tokens`, or hold a request ("METHOD PATH-PREFIX", `--hold`) until `--release`.
#   Faults combine. Rates are spread evenly
#   over the requests that match, not drawn at random, so test runs repeat. Each request is one line
#   of DIR/api.log: SERVICE METHOD PATH STATUS MS (status 0 = dropped). Tokens are never logged.
#   Identity requests with a token that no client got through the proxy are the services' own (token
#   validation by Neutron's and Glance's keystonemiddleware): forwarded without faults, logged as "internal".
import http.client
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mclib

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
       "content-length"}
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           413: "Request Entity Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class Server(ThreadingHTTPServer):
    """An API endpoint: clients open several connections at once (vmtp-provision up to 8), so a listen
    backlog of 5 (socketserver's default) would drop their SYNs and stall them for a second."""
    request_queue_size = 128


class Faults:
    """DIR/faults.json, re-read when it changes; {} means no fault."""

    def __init__(self, path):
        self.path, self.mtime, self.data = path, None, {}
        self.lock = threading.Lock()

    def get(self):
        with self.lock:
            try:
                m = os.stat(self.path).st_mtime_ns
            except FileNotFoundError:
                self.mtime, self.data = None, {}
                return self.data
            if m != self.mtime:
                try:
                    with open(self.path) as fp:
                        self.data = json.load(fp)
                    self.mtime = m
                except ValueError:
                    pass
            return self.data


class State:
    def __init__(self, d):
        self.dir = d
        self.faults = Faults(os.path.join(d, "faults.json"))
        self.log = open(os.path.join(d, "api.log"), "a", buffering=1)
        self.log_lock = threading.Lock()
        self.issued = {}  # token digest -> time the proxy saw Keystone issue it
        self.issued_lock = threading.Lock()
        self.credit = {}  # fault kind -> accumulated rate
        self.turn = 0  # injected faults so far: which of several statuses is next
        self.credit_lock = threading.Lock()

    def hit(self, kind, rate):
        """True for a fraction RATE of calls, evenly spread (error diffusion): a 0.3 rate faults the 4th,
        7th, 10th... request, so a run is reproducible and a client retrying twice always gets through."""
        with self.credit_lock:
            c = self.credit.get(kind, 0.0) + rate
            fire = c >= 1.0 - 1e-9
            self.credit[kind] = c - 1.0 if fire else c
            return fire

    def next_status(self, statuses):
        """The injected status of this fault: a list takes turns (503, 429, 503...), an int is itself."""
        if isinstance(statuses, int):
            return statuses
        with self.credit_lock:
            self.turn += 1
            return statuses[(self.turn - 1) % len(statuses)]

    def write(self, service, method, path, status, ms):
        with self.log_lock:
            self.log.write("%s %s %s %d %.1f\n" % (service, method, path.replace(" ", "%20"), status, ms))


def applies(services, service):
    """Whether a fault given for SERVICES (None: all; a name, or a list of names) applies to SERVICE."""
    return services is None or service == services or (isinstance(services, list) and service in services)


def held_by(faults, method, path):
    """The hold ("METHOD PATH-PREFIX") of FAULTS that the request matches, or None."""
    for h in faults.get("hold", []):
        m, _, prefix = h.partition(" ")
        if m == method and path.startswith(prefix):
            return h
    return None


def fault_body(service, status, message):
    """An error body in the style the real service uses, so clients parse injected faults as real ones."""
    title = REASONS.get(status, "Error")
    if service == "identity" or status == 401:  # every service's 401 comes from keystonemiddleware
        return {"error": {"code": status, "title": title, "message": message}}
    if service == "compute":
        names = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                 409: "conflictingRequest", 413: "overLimit", 429: "overLimit", 503: "serviceUnavailable"}
        return {names.get(status, "computeFault"): {"code": status, "message": message}}
    if service == "network":
        return {"NeutronError": {"type": title.replace(" ", ""), "message": message, "detail": ""}}
    return {"code": status, "title": title, "message": message}


def make_handler(service, backend_port, state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "minicloud-proxy"

        def log_message(self, fmt, *args):
            pass

        def read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def answer(self, status, headers, body):
            self.send_response_only(status, REASONS.get(status))  # the service's own Date and Server stand
            if not any(k.lower() == "date" for k, _ in headers):
                self.send_header("Date", self.date_time_string())
            for k, v in headers:
                if k.lower() not in HOP:
                    self.send_header(k, v)
            length = str(len(body))
            if self.command == "HEAD":  # a HEAD answer tells the length of the body it leaves out
                length = dict((k.lower(), v) for k, v in headers).get("content-length", length)
            self.send_header("Content-Length", length)
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def injected(self, status, message, extra=()):
            body = json.dumps(fault_body(service, status, message)).encode()
            self.answer(status, [("Content-Type", "application/json")] + list(extra), body)
            return status

        def issued_here(self, token):
            with state.issued_lock:
                return mclib.token_key(token) in state.issued

        def token_expired(self, f):
            cut = f.get("expire_before")
            token = self.headers.get("X-Auth-Token")
            if not cut or not token:
                return False
            with state.issued_lock:
                seen = state.issued.get(mclib.token_key(token))
            return seen is not None and seen < cut

        def forward(self, body, label=None, answer=True):
            self.label = label or service
            conn = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=300)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                headers["Content-Length"] = str(len(body))
                headers["Connection"] = "close"
                conn.request(self.command, self.path, body=body if body or self.command in (
                    "POST", "PUT", "PATCH") else None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                subject = resp.getheader("X-Subject-Token")
                if subject and self.command == "POST" and resp.status == 201:
                    with state.issued_lock:
                        state.issued[mclib.token_key(subject)] = time.time()
                if answer:
                    self.answer(resp.status, resp.getheaders(), data)
                return resp.status
            except (OSError, http.client.HTTPException) as e:
                return self.injected(502, "minicloud proxy: %s unreachable: %s" % (service, e))
            finally:
                conn.close()

        def drop(self):
            """Closes the client's connection without a word (a connection lost on the way)."""
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def handle_any(self):
            t0 = time.monotonic()
            status = 0
            self.label = service
            try:
                body = self.read_body()
                token = self.headers.get("X-Auth-Token")
                if service == "identity" and token and not self.issued_here(token):
                    # Not a token a client got through us: a service's own (Neutron's and Glance's
                    # keystonemiddleware validate user tokens at the catalog's identity URL). Their
                    # traffic is the cloud's, not the client's: no faults, logged apart.
                    status = self.forward(body, "internal")
                    return
                f = state.faults.get()
                path = self.path.split("?")[0]
                hold = held_by(f, self.command, path)
                if hold:
                    # held until `minicloud fault --release` (a request in flight while its client is
                    # killed, or slower than what runs beside it); DIR/held says which are waiting
                    with state.log_lock, open(os.path.join(state.dir, "held"), "a") as fp:
                        fp.write("%s %s\n" % (self.command, path))
                    while held_by(state.faults.get(), self.command, path) == hold:
                        time.sleep(0.05)
                if f.get("delay_ms") and applies(f.get("delay_service"), service):
                    time.sleep(f["delay_ms"] / 1000.0)
                if f.get("drop") and state.hit("drop", f["drop"]):
                    return self.drop()
                rate = f.get("rate")
                if rate and applies(rate.get("service"), service) and state.hit("rate", rate["rate"]):
                    extra = []
                    if rate.get("retry_after") is not None:
                        extra.append(("Retry-After", str(rate["retry_after"])))
                    status = self.injected(state.next_status(rate["status"]), "minicloud: injected fault",
                                           extra)
                    return
                if self.token_expired(f):
                    status = self.injected(401, "The request you have made requires authentication.",
                                           [("WWW-Authenticate", "Keystone uri=\"http://%s/v3\"" %
                                             self.headers.get("Host", ""))] if service != "identity" else [])
                    return
                after = f.get("drop_after")
                if after and self.command == "POST" and applies(after.get("service"), service) and \
                        state.hit("drop_after", after["rate"]):
                    # the service acts on the request; its answer is lost on the way back
                    self.forward(body, answer=False)
                    return self.drop()
                status = self.forward(body)
            finally:
                state.write(self.label, self.command, self.path.split("?")[0], status,
                            (time.monotonic() - t0) * 1000)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    return Handler


def main():
    d = sys.argv[1]
    ports = mclib.read_env(os.path.join(d, "ports.env"))
    state = State(d)
    backends = {"identity": "KEYSTONE_PORT", "compute": "COMPUTE_PORT", "network": "NEUTRON_PORT",
                "image": "GLANCE_PORT"}
    servers = []
    for svc in mclib.SERVICES:
        httpd = Server(("127.0.0.1", int(ports["PROXY_%s_PORT" % svc.upper()])),
                                    make_handler(svc, int(ports[backends[svc]]), state))
        httpd.daemon_threads = True
        servers.append(httpd)
    for httpd in servers[1:]:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
