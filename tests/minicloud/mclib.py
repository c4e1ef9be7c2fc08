# mclib.py: small helpers shared by minicloud's parts: state-folder files, JSON over HTTP, Keystone tokens (SPEC §9).
import datetime
import hashlib
import json
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request

SERVICES = ("identity", "compute", "network", "image")


def read_env(path):
    """Returns the KEY=VALUE lines of PATH as a dict ({} if the file is missing)."""
    out = {}
    try:
        with open(path) as fp:
            for line in fp:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    out[k] = v
    except FileNotFoundError:
        pass
    return out


def write_atomic(path, text, mode=0o644):
    """Replaces PATH with TEXT in one rename, so readers never see half a file."""
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as fp:
            fp.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def now_iso(micro=False):
    t = datetime.datetime.now(datetime.timezone.utc)
    if micro:
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def token_key(token):
    """A token's digest: tokens are secrets and never kept or logged in clear where a digest does."""
    return hashlib.sha256(token.encode()).hexdigest()


class HTTPError(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__("HTTP %d" % status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def message(self):
        """The service's own error message, whatever its fault body looks like."""
        b = self.body
        if isinstance(b, dict):
            for v in b.values():
                if isinstance(v, dict) and "message" in v:
                    return str(v["message"])
        return str(b)[:300]


def request(method, url, body=None, token=None, headers=None, timeout=30, raw=None):
    """Sends one request; returns (status, decoded JSON or None, headers). Raises HTTPError on >= 400."""
    hdrs = {"Accept": "application/json"}
    data = None
    if raw is not None:
        data = raw
        hdrs["Content-Type"] = "application/octet-stream"
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["X-Auth-Token"] = token
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
            return resp.status, _decode(text), dict(resp.headers)
    except urllib.error.HTTPError as e:
        text = e.read()
        raise HTTPError(e.code, _decode(text), dict(e.headers)) from None


def _decode(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text.decode(errors="replace")


def password_auth(keystone, user, password, project, domain="default"):
    """Returns (token, token body) for USER scoped to PROJECT, from Keystone at base URL KEYSTONE."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": domain}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": domain}}}}}
    _, data, hdrs = request("POST", keystone.rstrip("/") + "/v3/auth/tokens", body)
    return hdrs["X-Subject-Token"], data["token"]


def parse_time(s):
    return datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class ServiceAuth:
    """A service user's token, renewed a minute before it expires; safe to share between threads."""

    def __init__(self, keystone, user, password, project="service"):
        self.keystone, self.user, self.password, self.project = keystone, user, password, project
        self.lock = threading.Lock()
        self.token, self.expires = None, 0.0

    def get(self):
        with self.lock:
            if self.token is None or time.time() > self.expires - 60:
                self.token, body = password_auth(self.keystone, self.user, self.password, self.project)
                self.expires = parse_time(body["expires_at"])
            return self.token

    def invalidate(self):
        with self.lock:
            self.token = None
