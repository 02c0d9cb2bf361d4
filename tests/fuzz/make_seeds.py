#!/usr/bin/python3
"""Seed inputs for fuzz_engine (tests/fuzz/fuzz_engine.c): well-formed
exchanges with the engine at 10.0.0.2 (MAC 02:00:00:00:00:02, TCP port
8080) in its record format, so the fuzzer starts from frames every parser
accepts and mutates from there.

    make_seeds.py OUT_DIR     (needs Debian's python3-scapy)
"""
import os
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, Ether, Raw

ENG_MAC, PEER_MAC = "02:00:00:00:00:02", "02:00:00:00:00:01"
ENG_IP, PEER_IP = "10.0.0.2", "10.0.0.1"
OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)),
        ("NOP", None), ("WScale", 7)]


def frame(pkt):
    b = bytes(pkt)
    return bytes([0]) + struct.pack(">H", len(b)) + b


def advance(ms):
    return bytes([3, ms])


def tcp(flags, seq, ack=0, payload=b"", opts=None, sport=40000):
    p = (Ether(src=PEER_MAC, dst=ENG_MAC) / IP(src=PEER_IP, dst=ENG_IP) /
         TCP(sport=sport, dport=8080, flags=flags, seq=seq, ack=ack,
             window=65535, options=opts or [("NOP", None), ("NOP", None),
                                            ("Timestamp", (1001, 0))]))
    if payload:
        p = p / Raw(payload)
    return frame(p)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    arp = frame(Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") /
                ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=ENG_IP))
    ping = frame(Ether(src=PEER_MAC, dst=ENG_MAC) / IP(src=PEER_IP, dst=ENG_IP) /
                 ICMP(type=8, id=1, seq=1) / Raw(b"ping"))
    syn = tcp("S", 100, opts=OPTS)
    seeds = {
        "arp_ping": arp + ping,
        "syn": arp + syn,
        # The ACK cannot know the engine's ISN; the fuzzer's comparison
        # tracing finds it. Data, FIN and RST follow the same way.
        "handshake_data_fin": arp + syn + advance(1) +
        tcp("A", 101, 1) + tcp("PA", 101, 1, b"\x01hello") +
        tcp("FA", 107, 1) + advance(50),
        "syn_data_rst": arp + tcp("S", 500, opts=OPTS + [("TFO", b"")]) +
        tcp("R", 501) + advance(200),
        "other_port": arp + tcp("S", 7, opts=OPTS, sport=40001) +
        tcp("A", 8, 12345, sport=40001),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
