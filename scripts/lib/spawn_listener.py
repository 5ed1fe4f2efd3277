#!/usr/bin/env python3
"""Accepts TCP connections on ADDRESS:PORT and runs COMMAND for each, its stdin and stdout the
connection (inetd style: `sshd -i`). PORT 0 lets the kernel choose; the port bound is written to
PORTFILE once listening. Each child's pid is appended to PIDFILE. On SIGTERM the children go too.

    spawn_listener.py ADDRESS PORT PORTFILE PIDFILE -- COMMAND...
"""
import os
import signal
import socket
import subprocess
import sys

address, port, port_file, pid_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
command = sys.argv[sys.argv.index("--") + 1:]
children = []


def stop(*_):
    for child in children:
        if child.poll() is None:
            child.terminate()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind((address, port))
server.listen(512)
with open(port_file + ".tmp", "w") as f:
    f.write(f"{server.getsockname()[1]}\n")
os.rename(port_file + ".tmp", port_file)
while True:
    connection, _ = server.accept()
    child = subprocess.Popen(command, stdin=connection, stdout=connection, stderr=subprocess.DEVNULL, close_fds=True)
    connection.close()
    with open(pid_file, "a") as f:
        f.write(f"{child.pid}\n")
    children.append(child)
    children = [c for c in children if c.poll() is None]
