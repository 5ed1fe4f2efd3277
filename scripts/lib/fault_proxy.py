#!/usr/bin/env python3
"""A TCP proxy that injects faults, for the fault suite (faults/run). It listens on
ADDRESS (a loopback address, a port the kernel chooses, written to DIR/port), joins the network
namespace NETNS and forwards each connection to 127.0.0.1:22 there, so that the host's sshd is
reached only through it and packet-level faults (nft inside the namespace) hit only that host.

    fault_proxy.py ADDRESS NETNS DIR

Commands arrive one per line on the Unix socket DIR/control and are answered with "ok" or
"error: ...":
    delay MS        hold every chunk MS milliseconds, each way (latency, order kept)
    flip OFFSET     flip one bit of the byte OFFSET bytes further into the host-to-client
                    stream of every open connection (a corrupted byte in the encrypted stream)
    reset           end every open connection with a TCP RST to the client
    clear           no delay, nothing pending
    count           how many connections are open
    bytes           bytes passed client-to-host, all connections since the start
One thread, non-blocking sockets: a paused or black-holed host never stalls the others.
"""
import collections
import ctypes
import os
import selectors
import signal
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
LIMIT = 4 << 20  # bytes held per direction before reading from that side stops


class Pipe:
    """One direction of one connection: what was read, when it may be written."""

    def __init__(self, source, sink):
        self.source, self.sink = source, sink
        self.queue = collections.deque()  # (release time, bytearray)
        self.held = 0
        self.eof = False
        self.flip_at = None  # offset from `passed` of the byte to corrupt
        self.passed = 0

    def push(self, data, delay):
        self.queue.append((time.monotonic() + delay, bytearray(data)))
        self.held += len(data)

    def due(self, now):
        return bool(self.queue) and self.queue[0][0] <= now


class Connection:
    def __init__(self, client, server):
        self.client, self.server = client, server
        self.up = Pipe(client, server)  # client -> host
        self.down = Pipe(server, client)  # host -> client
        self.connected = False
        self.closed = False


class Proxy:
    def __init__(self, address, netns, directory):
        self.sel = selectors.DefaultSelector()
        self.delay = 0.0
        self.connections = []
        self.up_bytes = 0  # passed upward by connections now closed
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((address, 0))
        self.listener.listen(256)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, ("accept", None))
        control_path = os.path.join(directory, "control")
        if os.path.exists(control_path):
            os.unlink(control_path)
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control.bind(control_path)
        self.control.listen(8)
        self.control.setblocking(False)
        self.sel.register(self.control, selectors.EVENT_READ, ("control", None))
        # From here on, new sockets belong to the host's namespace; the two above stay here.
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        port_file = os.path.join(directory, "port")
        with open(port_file + ".tmp", "w") as f:
            f.write(f"{self.listener.getsockname()[1]}\n")
        os.rename(port_file + ".tmp", port_file)

    # -- events

    def accept(self):
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        client.setblocking(False)
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setblocking(False)
        server.connect_ex(("127.0.0.1", 22))
        connection = Connection(client, server)
        self.connections.append(connection)
        self.watch(connection)

    def command(self, line):
        words = line.split()
        if not words:
            return "error: empty command"
        verb, args = words[0], words[1:]
        if verb == "delay" and len(args) == 1:
            self.delay = float(args[0]) / 1000
        elif verb == "flip" and len(args) == 1:
            for c in self.connections:
                c.down.flip_at = c.down.passed + c.down.held + int(args[0])
        elif verb == "reset" and not args:
            for c in list(self.connections):
                c.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close(c)
        elif verb == "clear" and not args:
            self.delay = 0.0
            for c in self.connections:
                c.down.flip_at = None
        elif verb == "count" and not args:
            return f"ok {len(self.connections)}"
        elif verb == "bytes" and not args:
            return f"ok {self.up_bytes + sum(c.up.passed for c in self.connections)}"
        else:
            return f"error: unknown command {line!r}"
        return "ok"

    def serve_control(self):
        try:
            peer, _ = self.control.accept()
        except BlockingIOError:
            return
        peer.setblocking(True)
        peer.settimeout(5)
        try:
            data = b""
            while not data.endswith(b"\n"):
                chunk = peer.recv(4096)
                if not chunk:
                    break
                data += chunk
            peer.sendall((self.command(data.decode().strip()) + "\n").encode())
        except OSError:
            pass
        finally:
            peer.close()

    # -- moving bytes

    def read(self, connection, pipe):
        try:
            data = pipe.source.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            # Reset on one side (nft's `reject with tcp reset`): the other side is reset too.
            other = connection.client if pipe.source is connection.server else connection.server
            other.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close(connection)
            return
        if not data:
            pipe.eof = True
        else:
            pipe.push(data, self.delay)

    def write(self, connection, pipe, now):
        while pipe.due(now):
            release, chunk = pipe.queue[0]
            if pipe.flip_at is not None and pipe.passed <= pipe.flip_at < pipe.passed + len(chunk):
                chunk[pipe.flip_at - pipe.passed] ^= 0x20
                pipe.flip_at = None
            try:
                sent = pipe.sink.send(chunk)
            except BlockingIOError:
                return
            except OSError:
                self.close(connection)
                return
            pipe.passed += sent
            pipe.held -= sent
            if sent < len(chunk):
                pipe.queue[0] = (release, chunk[sent:])
                return
            pipe.queue.popleft()
        if pipe.eof and not pipe.queue:
            try:
                pipe.sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def watch(self, connection):
        """Registers each socket for what it can do now."""
        if connection.closed:
            return
        for sock, incoming, outgoing in (
            (connection.client, connection.up, connection.down),
            (connection.server, connection.down, connection.up),
        ):
            events = 0
            if sock is connection.server and not connection.connected:
                events = selectors.EVENT_WRITE
            else:
                if not incoming.eof and incoming.held < LIMIT:
                    events |= selectors.EVENT_READ
                if outgoing.due(time.monotonic()):
                    events |= selectors.EVENT_WRITE
            key = self.sel.get_map().get(sock)
            if events == 0:
                if key:
                    self.sel.unregister(sock)
            elif key is None:
                self.sel.register(sock, events, ("io", connection))
            elif key.events != events:
                self.sel.modify(sock, events, ("io", connection))

    def close(self, connection):
        if connection.closed:
            return
        connection.closed = True
        self.up_bytes += connection.up.passed
        for sock in (connection.client, connection.server):
            if self.sel.get_map().get(sock):
                self.sel.unregister(sock)
            sock.close()
        self.connections.remove(connection)

    def next_timeout(self):
        soonest = None
        for c in self.connections:
            for pipe in (c.up, c.down):
                if pipe.queue:
                    t = pipe.queue[0][0]
                    soonest = t if soonest is None else min(soonest, t)
        if soonest is None:
            return None
        return max(0.0, soonest - time.monotonic())

    def run(self):
        while True:
            for key, events in self.sel.select(self.next_timeout()):
                what, connection = key.data
                if what == "accept":
                    self.accept()
                elif what == "control":
                    self.serve_control()
                elif connection.closed:
                    continue
                elif key.fileobj is connection.server and not connection.connected:
                    if connection.server.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        self.close(connection)  # the host is not there: the client sees EOF
                    else:
                        connection.connected = True
                else:
                    if events & selectors.EVENT_READ:
                        pipe = connection.up if key.fileobj is connection.client else connection.down
                        self.read(connection, pipe)
            now = time.monotonic()
            for c in list(self.connections):
                if c.connected:
                    self.write(c, c.up, now)
                    self.write(c, c.down, now)
                if not c.closed and c.up.eof and c.down.eof and not c.up.queue and not c.down.queue:
                    self.close(c)
                self.watch(c)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Proxy(*sys.argv[1:]).run()


if __name__ == "__main__":
    main()
