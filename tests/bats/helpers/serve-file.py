#!/usr/bin/python3
"""serve-file.py FILE PORTFILE - a stand-in for a broken gmond in tests.

Listens on a free 127.0.0.1 port (written to PORTFILE) and answers every
connection with the bytes of FILE (for an HTTP client, a whole response),
then closes it.  With FILE "" it accepts
connections and never answers: a gmond that hangs.  Appends a line to
PORTFILE.log for each connection: "accepted" once it is accepted, and
"answered" once the answer is sent and the connection closed, so that a
test can wait for a poll instead of sleeping.
"""
import os
import socket
import sys
import threading

path, port_file = sys.argv[1], sys.argv[2]
data = open(path, "rb").read() if path else None
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
held = []


def note(what):
    with open(port_file + ".log", "a") as f:
        f.write(what + "\n")


while True:
    conn, _ = srv.accept()
    note("accepted")
    if data is None:
        held.append(conn)  # keep it open, say nothing
        continue
    conn.sendall(data)
    # drain what the client sent (an HTTP request) so that closing does
    # not reset the connection before the client has read the answer
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(1)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()
    note("answered")
