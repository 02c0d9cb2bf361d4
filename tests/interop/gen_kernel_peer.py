#!/usr/bin/env python3
"""The Linux kernel's end of wskdp-gen's request/response exchange.

Usage:
  gen_kernel_peer.py server --ip ADDR --port N --conns N [--request-size B]
      [--response-size B] [--close-first K] [--fastopen QLEN]
      [--tfo-off-after K] [--timeout S]
  gen_kernel_peer.py client --peer ADDR --port N --conns N [--parallel P]
      [--request-size B] [--response-size B] [--requests K]
      [--server-closes] [--fastopen] [--timeout S]
  gen_kernel_peer.py syns --pcap FILE


Speaks wskdp-gen's protocol: the client sends --request-size bytes, the
server answers every --request-size bytes with --response-size bytes; the
client closes (FIN) after its last answer, or the server closes first after
K answers (server --close-first K, client --server-closes), and the other
side closes after reading the end of stream. A connection is completed when
it ended that way with every answer whole; any other end is a failure.

The server serves until --conns connections ended (completed or failed),
SIGTERM or --timeout. --fastopen QLEN sets TCP_FASTOPEN on the listener;
--tfo-off-after K writes 0 to net.ipv4.tcp_fastopen (of the namespace the
server runs in) when the K-th connection is accepted, before it is served,
so a client opening one connection at a time meets a server that stopped
doing Fast Open after giving it a cookie.

The client opens --conns connections, --parallel at a time, with
sendto(MSG_FASTOPEN) when --fastopen is given (the request then rides in the
SYN once the kernel holds a cookie).

Both print "listening on"/"connecting to" when ready, then one JSON line:
  {"role", "conns", "completed", "failed", "open", "failures": {kind: n},
   "requests", "bytes_received", "bytes_sent", "syn_data"}
where syn_data counts connections whose request travelled in the SYN (the
kernel's TCP_INFO option TCPI_OPT_SYN_DATA: data in the SYN acknowledged by
the SYN-ACK, on either side). Exit status 0 only if all --conns connections
completed.

"syns" reads a pcap of Ethernet frames (tcpdump -w) and prints one JSON line
per SYN and SYN-ACK: {"src", "dst", "ack", "payload", "tfo"}, tfo being
null (no Fast Open option), "request" (an empty cookie) or the cookie in
hex. Python 3 standard library only.
"""
import argparse
import errno
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

TCPI_OPT_SYN_DATA = 32
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
MSG_FASTOPEN = getattr(socket, "MSG_FASTOPEN", 0x20000000)
TFO_SYSCTL = "/proc/sys/net/ipv4/tcp_fastopen"


class Failure(Exception):
    def __init__(self, kind, text):
        super().__init__(text)
        self.kind = kind


class Stats:
    """Counts shared by the connection threads."""

    def __init__(self, role, conns):
        self.role = role
        self.conns = conns
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.accepted = 0
        self.completed = 0
        self.failed = 0
        self.failures = {}
        self.requests = 0
        self.bytes_received = 0
        self.bytes_sent = 0
        self.syn_data = 0
        self.errors = []

    def start(self):
        with self.lock:
            self.accepted += 1
            return self.accepted

    def finish(self, requests, received, sent, syn_data, failure=None):
        with self.lock:
            self.requests += requests
            self.bytes_received += received
            self.bytes_sent += sent
            self.syn_data += 1 if syn_data else 0
            if failure is None:
                self.completed += 1
            else:
                self.failed += 1
                self.failures[failure.kind] = self.failures.get(failure.kind, 0) + 1
                if len(self.errors) < 5:
                    self.errors.append(str(failure))
            if self.completed + self.failed >= self.conns:
                self.done.set()

    def summary(self):
        with self.lock:
            doc = {
                "role": self.role, "conns": self.conns,
                "completed": self.completed, "failed": self.failed,
                "open": self.accepted - self.completed - self.failed,
                "failures": self.failures, "requests": self.requests,
                "bytes_received": self.bytes_received,
                "bytes_sent": self.bytes_sent, "syn_data": self.syn_data,
            }
            for e in self.errors:
                print("error: %s" % e, file=sys.stderr)
        print(json.dumps(doc, sort_keys=True), flush=True)
        return doc["completed"] == self.conns and doc["failed"] == 0


def classify(e):
    if isinstance(e, Failure):
        return e
    if isinstance(e, ConnectionResetError):
        return Failure("reset", "connection reset")
    if isinstance(e, ConnectionRefusedError):
        return Failure("refused", "connection refused")
    if isinstance(e, (socket.timeout, TimeoutError)):
        return Failure("timeout", "timed out")
    return Failure("local", "%s: %s" % (type(e).__name__, e))


def syn_data_acked(sock):
    """Did this connection's first data travel in the SYN (and get acked)?"""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return bool(struct.unpack("8B", info)[5] & TCPI_OPT_SYN_DATA)


def recv_exact(sock, n, counts):
    left = n
    while left > 0:
        got = sock.recv(min(left, 65536))
        if not got:
            raise Failure("short", "end of stream with %d of %d answer bytes missing"
                          % (left, n))
        left -= len(got)
        counts[0] += len(got)


def expect_eof(sock, counts):
    got = sock.recv(65536)
    if got:
        counts[0] += len(got)
        raise Failure("protocol", "%d bytes after the end of the exchange" % len(got))


def serve_one(args, stats, sock, index, deadline):
    counts = [0, 0]  # received, sent
    requests = 0
    syn = False
    answer = b"a" * args.response_size
    try:
        syn = syn_data_acked(sock)
        if index == args.tfo_off_after:
            with open(TFO_SYSCTL, "w") as f:
                f.write("0\n")
            print("tfo off after connection %d" % index, flush=True)
        sock.settimeout(max(1.0, deadline - time.monotonic()))
        pending = 0
        while True:
            got = sock.recv(65536)
            if not got:
                break
            counts[0] += len(got)
            pending += len(got)
            while pending >= args.request_size:
                pending -= args.request_size
                sock.sendall(answer)
                counts[1] += len(answer)
                requests += 1
                if args.close_first and requests == args.close_first:
                    if pending:
                        raise Failure("protocol", "%d bytes after the last request" % pending)
                    sock.shutdown(socket.SHUT_WR)
        if pending:
            raise Failure("short", "end of stream inside a request (%d bytes)" % pending)
        if requests == 0:
            raise Failure("protocol", "closed without a request")
        if args.close_first and requests != args.close_first:
            raise Failure("protocol", "%d requests, want %d" % (requests, args.close_first))
        stats.finish(requests, counts[0], counts[1], syn)
    except Exception as e:  # every way a connection ends is counted
        stats.finish(requests, counts[0], counts[1], syn, classify(e))
    finally:
        sock.close()


def run_server(args, stats, deadline):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.fastopen:
        ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, args.fastopen)
    ls.bind((args.ip, args.port))
    ls.listen(4096)
    ls.settimeout(0.2)
    print("listening on %s:%d" % (args.ip, args.port), flush=True)
    while not stats.done.is_set() and time.monotonic() < deadline:
        try:
            sock, _ = ls.accept()
        except socket.timeout:
            continue
        sock.settimeout(None)
        index = stats.start()
        threading.Thread(target=serve_one, args=(args, stats, sock, index, deadline),
                         daemon=True).start()
    ls.close()


def client_one(args, stats, deadline):
    counts = [0, 0]
    requests = 0
    syn = False
    request = b"q" * args.request_size
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(max(1.0, deadline - time.monotonic()))
        stats.start()
        if args.fastopen:
            try:
                sent = sock.sendto(request, MSG_FASTOPEN, (args.peer, args.port))
            except BlockingIOError as e:
                # No cookie yet: the SYN asks for one and carries
                # nothing; the request goes once connected.
                if e.errno != errno.EINPROGRESS:
                    raise
                if not select.select([], [sock], [], sock.gettimeout())[1]:
                    raise Failure("timeout", "connect timed out")
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                sent = 0
            if sent < len(request):
                sock.sendall(request[sent:])
        else:
            sock.connect((args.peer, args.port))
            sock.sendall(request)
        counts[1] += len(request)
        while True:
            recv_exact(sock, args.response_size, counts)
            requests += 1
            if requests == args.requests:
                break
            sock.sendall(request)
            counts[1] += len(request)
        syn = syn_data_acked(sock)
        if not args.server_closes:
            sock.shutdown(socket.SHUT_WR)
        expect_eof(sock, counts)
        stats.finish(requests, counts[0], counts[1], syn)
    except Exception as e:  # every way a connection ends is counted
        stats.finish(requests, counts[0], counts[1], syn, classify(e))
    finally:
        sock.close()


def run_client(args, stats, deadline):
    next_index = [0]
    lock = threading.Lock()

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if next_index[0] == args.conns:
                    return
                next_index[0] += 1
            client_one(args, stats, deadline)

    print("connecting to %s:%d" % (args.peer, args.port), flush=True)
    for _ in range(min(args.parallel, args.conns)):
        threading.Thread(target=worker, daemon=True).start()
    stats.done.wait(max(0.0, deadline - time.monotonic()))


def tfo_option(opts):
    """The Fast Open option of a TCP header's options (RFC 7413 kind 34,
    or the experimental kind 254 with magic F989): None, "request" or the
    cookie in hex."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        body = opts[i + 2:i + opts[i + 1]]
        if kind == 254 and body[:2] == b"\xf9\x89":
            body, kind = body[2:], 34
        if kind == 34:
            return body.hex() if body else "request"
        i += opts[i + 1]
    return None


def run_syns(args):
    with open(args.pcap, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    if struct.unpack(endian + "I", data[:4])[0] not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("%s: not a pcap file" % args.pcap)
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        sys.exit("%s: not Ethernet frames" % args.pcap)
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl, total, proto = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0], ip[9]
        if proto != 6:
            continue
        tcp = ip[ihl:total]
        doff, flags = (tcp[12] >> 4) * 4, tcp[13]
        if not flags & 0x02:
            continue
        print(json.dumps({
            "src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
            "ack": bool(flags & 0x10), "payload": total - ihl - doff,
            "tfo": tfo_option(tcp[20:doff]),
        }, sort_keys=True))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("role", choices=("client", "server", "syns"))
    ap.add_argument("--pcap", help="syns: the capture to read")
    ap.add_argument("--ip", default="0.0.0.0", help="server: address to listen on")
    ap.add_argument("--peer", help="client: server address")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--request-size", type=int, default=100)
    ap.add_argument("--response-size", type=int, default=100)
    ap.add_argument("--requests", type=int, default=1, help="client: requests per connection")
    ap.add_argument("--close-first", type=int, default=0, metavar="K",
                    help="server: close after K answers instead of after the client")
    ap.add_argument("--server-closes", action="store_true",
                    help="client: the server closes first")
    ap.add_argument("--fastopen", type=int, nargs="?", const=1, default=0,
                    help="server: TCP_FASTOPEN queue length; client: use MSG_FASTOPEN")
    ap.add_argument("--tfo-off-after", type=int, default=0, metavar="K")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    if args.role == "syns":
        if not args.pcap:
            ap.error("--pcap is required for syns")
        return run_syns(args)
    if args.role == "client" and not args.peer:
        ap.error("--peer is required for the client")
    if args.conns < 1 or args.parallel < 1 or args.requests < 1 or args.request_size < 1:
        ap.error("--conns, --parallel, --requests and --request-size must be at least 1")

    stats = Stats(args.role, args.conns)
    deadline = time.monotonic() + args.timeout
    signal.signal(signal.SIGTERM, lambda *_: stats.done.set())
    if args.role == "server":
        run_server(args, stats, deadline)
    else:
        run_client(args, stats, deadline)
    # The work is over: a SIGTERM from now on, even while the interpreter
    # shuts down (which puts default handlers back), must not kill us.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ok = stats.summary()
    # Threads of connections still open are daemons: leave without them.
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
