#!/usr/bin/env python3
"""The two ends of the python exchanges make_fixtures.sh captures.

Each end counts what it sent and received itself and prints the counts as
"key=value" lines; make_fixtures.sh writes them into expected.ini, so the
tests compare the reader against what the programs did, not against the
reader's own output.

Protocols (one connection each):
  turns  client sends a frame (4-byte big-endian length, then that many
         pattern bytes); server answers with a frame of 2*L+7 bytes;
         repeated for every size given; the client closes.
  sink   client sends N pattern bytes and shuts down writing; server
         answers "got N\\n" and closes.
Pattern byte i of a stream (counted from its first byte; in "turns" the
length prefixes hold lengths instead) is (i * 31 + 7) % 251, so any byte
out of place shows.
"""
import socket
import struct
import sys

MSG_FASTOPEN = 0x20000000
TCP_FASTOPEN = 23


def pattern(start, n):
    return bytes((i * 31 + 7) % 251 for i in range(start, start + n))


class Stream:
    """Sends pattern bytes, keeping the stream position."""

    def __init__(self, sock):
        self.sock = sock
        self.sent = 0

    def frame(self, n, fastopen_addr=None):
        # Body bytes follow the pattern at their own stream offsets, so a
        # stream is checkable byte by byte around the length prefixes.
        data = struct.pack("!I", n) + pattern(self.sent + 4, n)
        if fastopen_addr is not None:
            done = self.sock.sendto(data, MSG_FASTOPEN, fastopen_addr)
            if done < len(data):
                self.sock.sendall(data[done:])
        else:
            self.sock.sendall(data)
        self.sent += len(data)


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def serve(addr, port, count):
    """Serve 'count' connections one after another on each protocol port:
    port = turns, port + 1 = sink."""
    import selectors
    sel = selectors.DefaultSelector()
    for p in (port, port + 1):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
        ls.bind((addr, p))
        ls.listen(16)
        sel.register(ls, selectors.EVENT_READ, p)
    print("ready", flush=True)
    served = 0
    while count == 0 or served < count:
        for key, _ in sel.select():
            conn, _ = key.fileobj.accept()
            with conn:
                if key.data == port:
                    serve_turns(conn)
                else:
                    serve_sink(conn)
            served += 1


def serve_turns(conn):
    received = sent = turns = 0
    out = Stream(conn)
    while True:
        head = conn.recv(4, socket.MSG_WAITALL)
        if len(head) < 4:
            break
        n = struct.unpack("!I", head)[0]
        recv_exact(conn, n)
        received += 4 + n
        out.frame(2 * n + 7)
        turns += 1
    sent = out.sent
    print("server_turns received=%d sent=%d turns=%d" % (received, sent, turns),
          flush=True)


def serve_sink(conn):
    received = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        received += len(chunk)
    reply = b"got %d\n" % received
    conn.sendall(reply)
    print("server_sink received=%d sent=%d" % (received, len(reply)), flush=True)


def client_turns(addr, port, sizes, fastopen):
    s = socket.socket()
    out = Stream(s)
    received = 0
    for i, n in enumerate(sizes):
        if i == 0 and fastopen:
            out.frame(n, (addr, port))
        else:
            if i == 0:
                s.connect((addr, port))
            out.frame(n)
        head = recv_exact(s, 4)
        m = struct.unpack("!I", head)[0]
        recv_exact(s, m)
        received += 4 + m
    s.close()
    print("client_bytes=%d" % out.sent)
    print("server_bytes=%d" % received)
    print("turns=%d" % (2 * len(sizes)))


def client_sink(addr, port, n):
    s = socket.create_connection((addr, port))
    s.sendall(pattern(0, n))
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    s.close()
    if reply != b"got %d\n" % n:
        sys.exit("server answered %r" % reply)
    print("client_bytes=%d" % n)
    print("server_bytes=%d" % len(reply))


def main():
    role = sys.argv[1]
    if role == "serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif role == "turns":
        sizes = [int(x) for x in sys.argv[4].split(",")]
        client_turns(sys.argv[2], int(sys.argv[3]), sizes, False)
    elif role == "turns-tfo":
        sizes = [int(x) for x in sys.argv[4].split(",")]
        client_turns(sys.argv[2], int(sys.argv[3]), sizes, True)
    elif role == "sink":
        client_sink(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: fixture_peer.py serve|turns|turns-tfo|sink ...")


if __name__ == "__main__":
    main()
