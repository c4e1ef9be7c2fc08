#!/usr/bin/python3
"""mongo-peer.py - a small MongoDB wire-protocol peer for vmtp-collect's tests.

It is not a database.  It speaks just enough of the protocol for a real
driver (libmongoc) to connect and insert: it answers the handshake
(isMaster/hello over OP_QUERY or OP_MSG), buildInfo, ping and endSessions,
and for "insert" it decodes the BSON documents the driver sent (with the
bson package of Debian's python3-pymongo) and appends each, with the
database and collection named in the command, as one JSON line to --out.

Modes: accept (insert succeeds), refuse (insert answered with ok:0 and an
"Unauthorized" error, as a server without the right role does), close (every
connection is closed at once, as a port that accepts but is no MongoDB).

Usage: mongo-peer.py --port-file F --out F [--mode accept|refuse|close]
Binds 127.0.0.1 on a free port and writes the port number to --port-file
once it listens.  Runs until killed.
"""
import argparse
import json
import os
import socket
import socketserver
import struct
import threading

import bson
from bson import json_util

OP_REPLY = 1
OP_QUERY = 2004
OP_MSG = 2013

HELLO = {
    "ismaster": True,
    "isWritablePrimary": True,
    "helloOk": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48000000,
    "maxWriteBatchSize": 100000,
    "minWireVersion": 0,
    "maxWireVersion": 13,
    "readOnly": False,
    "ok": 1.0,
}

lock = threading.Lock()
args = None


def cstring(buf, pos):
    end = buf.index(b"\0", pos)
    return buf[pos:end].decode(), end + 1


def record(db, coll, docs):
    with lock, open(args.out, "a") as f:
        for d in docs:
            f.write(json_util.dumps(
                {"db": db, "collection": coll, "doc": d},
                json_options=json_util.RELAXED_JSON_OPTIONS) + "\n")


def answer(cmd, extra_docs):
    """The reply document to command CMD (a dict, first key the name)."""
    name = next(iter(cmd)) if cmd else ""
    lname = name.lower()
    if lname in ("ismaster", "hello"):
        r = dict(HELLO)
        r["localTime"] = bson.datetime.datetime.now(bson.datetime.timezone.utc)
        r["connectionId"] = threading.get_ident() & 0x7FFFFFFF
        return r
    if lname in ("buildinfo", "ping", "endsessions", "getlasterror"):
        return {"ok": 1.0, "version": "5.0.0", "versionArray": [5, 0, 0, 0]}
    if lname == "insert":
        docs = list(cmd.get("documents", [])) + extra_docs.get("documents", [])
        if args.mode == "refuse":
            return {"ok": 0.0, "code": 13, "codeName": "Unauthorized",
                    "errmsg": "not authorized on %s to execute command "
                              "{ insert: \"%s\" }" % (cmd.get("$db"), cmd[name])}
        record(cmd.get("$db"), cmd[name], docs)
        return {"n": len(docs), "ok": 1.0}
    return {"ok": 0.0, "code": 59, "codeName": "CommandNotFound",
            "errmsg": "no such command: '%s'" % name}


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def send(self, request_id, opcode, body):
        header = struct.pack("<iiii", 16 + len(body), request_id + 1000000,
                             request_id, opcode)
        self.request.sendall(header + body)

    def handle(self):
        if args.mode == "close":
            return
        try:
            while True:
                length, request_id, _, opcode = struct.unpack(
                    "<iiii", self.recv_exact(16))
                body = self.recv_exact(length - 16)
                if opcode == OP_QUERY:
                    _, pos = struct.unpack_from("<i", body)[0], 4
                    fullname, pos = cstring(body, pos)
                    pos += 8  # numberToSkip, numberToReturn
                    size = struct.unpack_from("<i", body, pos)[0]
                    cmd = bson.decode(body[pos:pos + size])
                    cmd.setdefault("$db", fullname.split(".")[0])
                    reply = bson.encode(answer(cmd, {}))
                    self.send(request_id, OP_REPLY,
                              struct.pack("<iqii", 0, 0, 0, 1) + reply)
                elif opcode == OP_MSG:
                    flags = struct.unpack_from("<I", body)[0]
                    end = len(body) - (4 if flags & 1 else 0)
                    pos, cmd, extra = 4, {}, {}
                    while pos < end:
                        kind = body[pos]
                        pos += 1
                        size = struct.unpack_from("<i", body, pos)[0]
                        if kind == 0:
                            cmd = bson.decode(body[pos:pos + size])
                        else:
                            ident, p = cstring(body, pos + 4)
                            extra[ident] = bson.decode_all(body[p:pos + size])
                        pos += size
                    if flags & 2:  # moreToCome: no reply wanted
                        continue
                    reply = bson.encode(answer(cmd, extra))
                    self.send(request_id, OP_MSG,
                              struct.pack("<IB", 0, 0) + reply)
                else:
                    return
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--mode", choices=("accept", "refuse", "close"),
                   default="accept")
    args = p.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
