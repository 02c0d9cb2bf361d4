#!/usr/bin/env python3
"""The Linux kernel's end of wskdp-tcp-peer's verified byte stream.

Usage:
  tcp_kernel_peer.py --mode server --ip ADDR --port N --conns N [--timeout S]
  tcp_kernel_peer.py --mode client --peer ADDR --port N [--conns N]
      [--parallel N] [--bytes N] [--direction up|down|both] [--timeout S]

Speaks the protocol described at the top of tests/tcp_peer.c (header, pattern
bytes, 8-byte status, half-close, end of stream) with the same pattern, so
either end can be the engine. One thread per open connection; the server
serves --conns connections and exits. Prints one summary line in the same
format as wskdp-tcp-peer and exits 0 only if every connection completed and
every byte matched; a connection still open at --timeout counts as hung.
Python 3 standard library only.
"""
import argparse
import socket
import struct
import sys
import threading
import time

MAGIC = 0x5754
DIR_UP, DIR_DOWN, DIR_BOTH = 1, 2, 3
DIR_NAMES = {"up": DIR_UP, "down": DIR_DOWN, "both": DIR_BOTH}
HDR = struct.Struct("!HBBIQ")
STATUS = struct.Struct("!Q")
STATUS_MISMATCH, STATUS_BAD_HEADER, STATUS_SHORT = 1, 2, 3
OFFSET_MASK = (1 << 56) - 1
BLOCK = 65536
WORDS = BLOCK // 8
M64 = (1 << 64) - 1
FAIL_KINDS = ("refused", "reset", "timeout", "mismatch", "protocol", "hung", "local")
IO_CHUNK = 256 * 1024


def _table():
    x = 0x9E3779B97F4A7C15
    words = []
    for _ in range(WORDS):
        x ^= (x << 13) & M64
        x ^= x >> 7
        x ^= (x << 17) & M64
        words.append(x.to_bytes(8, "little"))
    return b"".join(words)


TABLE = _table()


def splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def pattern_block(seed, block):
    rot = splitmix64(splitmix64(seed) ^ block) % BLOCK
    return TABLE[rot:] + TABLE[:rot]


class Pattern:
    """Sequential access to one connection's pattern, a block at a time."""

    def __init__(self, seed):
        self.seed = seed
        self.block = -1
        self.data = b""

    def slice(self, off, n):
        """Up to n pattern bytes from off, never crossing a block."""
        b, o = divmod(off, BLOCK)
        if b != self.block:
            self.block, self.data = b, pattern_block(self.seed, b)
        return self.data[o:o + n]


class Failure(Exception):
    def __init__(self, kind, text):
        super().__init__(text)
        self.kind = kind


def recv_exact(sock, n, what):
    buf = bytearray()
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise Failure("protocol", "end of stream after %d of %d %s bytes"
                          % (len(buf), n, what))
        buf += got
    return bytes(buf)


def send_pattern(sock, seed, length):
    pat = Pattern(seed)
    off = 0
    while off < length:
        chunk = pat.slice(off, min(BLOCK, length - off))
        sock.sendall(chunk)
        off += len(chunk)


def recv_pattern(sock, seed, length):
    """Receive and check length bytes; returns the first mismatching offset
    or None."""
    pat = Pattern(seed)
    buf = bytearray(IO_CHUNK)
    view = memoryview(buf)
    off = 0
    bad = None
    while off < length:
        n = sock.recv_into(view, min(IO_CHUNK, length - off))
        if n == 0:
            raise Failure("protocol", "end of stream after %d of %d bytes" % (off, length))
        i = 0
        while i < n and bad is None:
            exp = pat.slice(off + i, n - i)
            got = bytes(view[i:i + len(exp)])
            if got != exp:
                for k in range(len(exp)):
                    if got[k] != exp[k]:
                        bad = off + i + k
                        break
            i += len(exp)
        off += n
    return bad


def expect_eof(sock):
    extra = sock.recv(1)
    if extra:
        raise Failure("protocol", "bytes after the end of the exchange")


def check_status(raw):
    st = STATUS.unpack(raw)[0]
    if st == 0:
        return
    code, at = st >> 56, st & OFFSET_MASK
    if code == STATUS_MISMATCH:
        raise Failure("mismatch", "the peer reports a mismatch at byte %d" % at)
    raise Failure("protocol", "the peer reports %s at byte %d"
                  % ("an early end" if code == STATUS_SHORT else "a bad header", at))


def status_for(bad):
    return STATUS.pack(0 if bad is None else (STATUS_MISMATCH << 56) | (bad & OFFSET_MASK))


def with_sender(sock, seed, length, body):
    """Send the pattern in a second thread while body() receives."""
    err = []

    def run():
        try:
            send_pattern(sock, seed, length)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        return body()
    finally:
        t.join()
        if err:
            raise err[0]


def client_exchange(sock, seed, direction, length):
    sock.sendall(HDR.pack(MAGIC, direction, 0, seed, length))
    bad = None
    if direction == DIR_UP:
        send_pattern(sock, seed, length)
    elif direction == DIR_DOWN:
        bad = recv_pattern(sock, seed, length)
    else:
        bad = with_sender(sock, seed, length, lambda: recv_pattern(sock, seed, length))
    if direction & DIR_DOWN:
        sock.sendall(status_for(bad))
    sock.shutdown(socket.SHUT_WR)
    if direction & DIR_UP:
        check_status(recv_exact(sock, STATUS.size, "status"))
    expect_eof(sock)
    if bad is not None:
        raise Failure("mismatch", "first mismatch at byte %d" % bad)
    return length


def server_exchange(sock):
    magic, direction, zero, seed, length = HDR.unpack(recv_exact(sock, HDR.size, "header"))
    if magic != MAGIC or direction not in (DIR_UP, DIR_DOWN, DIR_BOTH) or zero != 0:
        raise Failure("protocol", "bad header %04x %02x %02x" % (magic, direction, zero))
    bad = None
    if direction == DIR_DOWN:
        send_pattern(sock, seed, length)
    elif direction == DIR_UP:
        bad = recv_pattern(sock, seed, length)
    else:
        bad = with_sender(sock, seed, length, lambda: recv_pattern(sock, seed, length))
    if direction & DIR_UP:
        sock.sendall(status_for(bad))
    sock.shutdown(socket.SHUT_WR)
    if direction & DIR_DOWN:
        check_status(recv_exact(sock, STATUS.size, "status"))
    expect_eof(sock)
    if bad is not None:
        raise Failure("mismatch", "first mismatch at byte %d" % bad)
    return seed, direction, length


class Stats:
    def __init__(self, role, conns):
        self.role = role
        self.conns = conns
        self.lock = threading.Lock()
        self.completed = 0
        self.fails = dict.fromkeys(FAIL_KINDS, 0)
        self.lines = 0
        self.bytes = 0
        self.first = None
        self.last = None
        self.open = {}
        self.done = threading.Event()

    def start(self, ident, what):
        with self.lock:
            now = time.monotonic()
            if self.first is None:
                self.first = now
            self.open[ident] = what

    def finish(self, ident, kind=None, text="", nbytes=0):
        with self.lock:
            what = self.open.pop(ident, None)
            if what is None:
                return      # already counted as hung
            self.last = time.monotonic()
            if kind is None:
                self.completed += 1
                self.bytes += nbytes
            else:
                self.fails[kind] += 1
                if self.lines < 20:
                    self.lines += 1
                    print("tcp_kernel_peer: %s connection %s failed: %s: %s"
                          % (self.role, what, kind, text), flush=True)
            if self.completed + sum(self.fails.values()) >= self.conns:
                self.done.set()

    def expire(self):
        with self.lock:
            for ident, what in list(self.open.items()):
                self.fails["hung"] += 1
                if self.lines < 20:
                    self.lines += 1
                    print("tcp_kernel_peer: %s connection %s failed: hung: still open at --timeout"
                          % (self.role, what), flush=True)
            self.open.clear()
            missing = self.conns - self.completed - sum(self.fails.values())
            if missing > 0:
                self.fails["hung"] += missing
                print("tcp_kernel_peer: %d %s connections never %s"
                      % (missing, self.role, "arrived" if self.role == "server" else "started"),
                      flush=True)

    def summary(self, direction, length):
        secs = (self.last - self.first) if self.first and self.last else 0.0
        failed = sum(self.fails.values())
        line = ("tcp_kernel_peer: port %s dir=%s bytes=%d conns=%d completed=%d failed=%d"
                % (self.role, direction, length, self.conns, self.completed, failed))
        line += "".join(" %s=%d" % (k, self.fails[k]) for k in FAIL_KINDS)
        line += (" secs=%.3f conns_per_s=%.1f MB_per_s=%.2f Gb_per_s=%.3f"
                 % (secs, self.completed / secs if secs else 0,
                    self.bytes / secs / 1e6 if secs else 0,
                    self.bytes * 8 / secs / 1e9 if secs else 0))
        print(line, flush=True)
        return failed == 0 and self.completed == self.conns


def classify(exc):
    if isinstance(exc, Failure):
        return exc.kind, str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "refused", str(exc)
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "reset", str(exc)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout", str(exc)
    return "local", "%s: %s" % (type(exc).__name__, exc)


def run_server(args, stats, deadline):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.ip, args.port))
    ls.listen(1024)
    ls.settimeout(0.2)
    print("tcp_kernel_peer: listening on %s:%d" % (args.ip, args.port), flush=True)
    seen = {"dir": "-", "bytes": 0}
    accepted = 0

    def serve(sock, ident):
        try:
            sock.settimeout(max(1.0, deadline - time.monotonic()))
            seed, direction, length = server_exchange(sock)
            seen["dir"] = {v: k for k, v in DIR_NAMES.items()}[direction]
            seen["bytes"] = length
            stats.finish(ident, nbytes=length * (2 if direction == DIR_BOTH else 1))
        except Exception as e:  # every way a connection ends is counted
            stats.finish(ident, *classify(e))
        finally:
            sock.close()

    while accepted < args.conns and time.monotonic() < deadline:
        try:
            sock, addr = ls.accept()
        except socket.timeout:
            continue
        ident = "%d from %s:%d" % (accepted, addr[0], addr[1])
        stats.start(ident, ident)
        accepted += 1
        threading.Thread(target=serve, args=(sock, ident), daemon=True).start()
    ls.close()
    stats.done.wait(max(0.0, deadline - time.monotonic()))
    return seen["dir"], seen["bytes"]


def run_client(args, stats, deadline):
    direction = DIR_NAMES[args.direction]
    sem = threading.Semaphore(args.parallel)
    threads = []

    def one(index):
        ident = "%d" % index
        sock = None
        try:
            sock = socket.create_connection((args.peer, args.port),
                                            timeout=max(1.0, deadline - time.monotonic()))
            stats.start(ident, "%d (%s, %d bytes, port %d)"
                        % (index, args.direction, args.bytes, sock.getsockname()[1]))
            moved = client_exchange(sock, index, direction, args.bytes)
            stats.finish(ident, nbytes=moved * (2 if direction == DIR_BOTH else 1))
        except Exception as e:  # every way a connection ends is counted
            if ident not in stats.open:
                stats.start(ident, "%d (%s, %d bytes)" % (index, args.direction, args.bytes))
            stats.finish(ident, *classify(e))
        finally:
            if sock is not None:
                sock.close()
            sem.release()

    for i in range(args.conns):
        while not sem.acquire(timeout=0.2):
            if time.monotonic() >= deadline:
                break
        if time.monotonic() >= deadline:
            break
        t = threading.Thread(target=one, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    stats.done.wait(max(0.0, deadline - time.monotonic()))
    return args.direction, args.bytes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("client", "server"), required=True)
    ap.add_argument("--ip", default="0.0.0.0", help="server: address to listen on")
    ap.add_argument("--peer", help="client: server address")
    ap.add_argument("--port", type=int, default=5001)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--bytes", type=int, default=1024)
    ap.add_argument("--direction", choices=tuple(DIR_NAMES), default="up")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    if args.mode == "client" and not args.peer:
        ap.error("--peer is required in client mode")
    if args.conns < 1 or args.parallel < 1 or args.bytes < 0:
        ap.error("--conns and --parallel must be at least 1, --bytes not negative")

    stats = Stats(args.mode, args.conns)
    deadline = time.monotonic() + args.timeout
    if args.mode == "server":
        direction, length = run_server(args, stats, deadline)
    else:
        direction, length = run_client(args, stats, deadline)
    if not stats.done.is_set():
        stats.expire()
    ok = stats.summary(direction, length)
    sys.stdout.flush()
    # Threads of hung connections are daemons: leave without joining them.
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
