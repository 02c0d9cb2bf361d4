#!/usr/bin/python3
"""Generate the l2l3 scenarios' captures with scapy.

The expected frames are built here from the RFCs (826 ARP, 791 IPv4,
792 ICMP) and the engine's documented output choices (engine/net.h:
IPv4 packets it originates carry DF, ID 0, TTL 64; echo replies echo the
ICMP id, sequence and payload; ARP replies go unicast to the requester;
ARP requests are broadcast with target hardware address 0), never copied
from the engine's output. Frames the engine sends are not padded to 60
bytes (the NIC pads on the wire); input frames are padded like a real
peer's.

Run from anywhere: ./pcaps/l2l3/generate.py. The output is deterministic
(fixed timestamps, no randomness), so regenerating leaves git clean.
"""
import os
import sys

from scapy.all import ARP, ICMP, IP, Ether, Padding, Raw
from scapy.data import DLT_EN10MB
from scapy.utils import RawPcapWriter

HERE = os.path.dirname(os.path.abspath(__file__))

OUR_IP = "10.0.0.1"
OUR_MAC = "02:00:00:00:00:01"
PEER_IP = "10.0.0.2"
PEER_MAC = "02:00:00:00:00:02"
OTHER_IP = "10.0.0.77"
BCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"

# Capture clock of every file, in seconds; the runner's virtual time is
# relative to the input file's first packet.
T0 = 1700000000
MS = 1000  # microseconds
S = 1000000

PING_ID = 0x1234
PING_PAYLOAD = bytes(range(56))  # like ping(8)'s default 56 bytes


def at(pkt, us):
    """A record: the frame's bytes, captured 'us' microseconds after T0.
    Integers keep timestamps exact (no float rounding)."""
    return (us, bytes(pkt))


def pad60(pkt):
    """Pad to the 60-byte Ethernet minimum, as a peer's NIC would."""
    short = 60 - len(pkt)
    return pkt / Padding(b"\0" * short) if short > 0 else pkt


def arp_request_from_peer(target=OUR_IP):
    return pad60(Ether(dst=BCAST, src=PEER_MAC) /
                 ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP,
                     hwdst=ZERO_MAC, pdst=target))


def arp_reply_from_peer():
    return pad60(Ether(dst=OUR_MAC, src=PEER_MAC) /
                 ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP,
                     hwdst=OUR_MAC, pdst=OUR_IP))


def our_arp_reply():
    # RFC 826: swap sender and target, fill in our hardware address,
    # opcode reply, sent straight back to the requester.
    return (Ether(dst=PEER_MAC, src=OUR_MAC) /
            ARP(op=2, hwsrc=OUR_MAC, psrc=OUR_IP,
                hwdst=PEER_MAC, pdst=PEER_IP))


def our_arp_request():
    return (Ether(dst=BCAST, src=OUR_MAC) /
            ARP(op=1, hwsrc=OUR_MAC, psrc=OUR_IP,
                hwdst=ZERO_MAC, pdst=PEER_IP))


def echo_request(seq):
    # A peer's ping with its own IP ID and no DF, so a reply that merely
    # echoed the header would not match the expected one.
    return (Ether(dst=OUR_MAC, src=PEER_MAC) /
            IP(src=PEER_IP, dst=OUR_IP, id=0x4000 + seq, ttl=64) /
            ICMP(type=8, code=0, id=PING_ID, seq=seq) /
            Raw(PING_PAYLOAD))


def echo_reply(seq):
    # RFC 792: same id, sequence and data, type 0; RFC 1122 3.2.2.6.
    return (Ether(dst=PEER_MAC, src=OUR_MAC) /
            IP(src=OUR_IP, dst=PEER_IP, id=0, flags="DF", ttl=64) /
            ICMP(type=0, code=0, id=PING_ID, seq=seq) /
            Raw(PING_PAYLOAD))


def write(name, records):
    w = RawPcapWriter(os.path.join(HERE, name), linktype=DLT_EN10MB)
    w.write_header(None)
    for us, data in records:
        w.write_packet(data, sec=T0 + us // S, usec=us % S)
    w.close()


def case_arp_request():
    write("arp_request.in.pcap", [at(arp_request_from_peer(), 0)])
    write("arp_request.expect.pcap", [at(our_arp_reply(), 0)])


def case_arp_other_target():
    write("arp_other_target.in.pcap",
          [at(arp_request_from_peer(OTHER_IP), 0)])


def case_ping():
    frames = [at(arp_request_from_peer(), 0)]
    expect = [at(our_arp_reply(), 0)]
    for seq in range(1, 4):
        t = seq * 10 * MS
        frames.append(at(echo_request(seq), t))
        expect.append(at(echo_reply(seq), t))
    write("ping.in.pcap", frames)
    write("ping.expect.pcap", expect)


def case_ping_unknown_peer():
    write("ping_unknown_peer.in.pcap",
          [at(echo_request(1), 0), at(arp_reply_from_peer(), MS)])
    write("ping_unknown_peer.expect.pcap",
          [at(our_arp_request(), 0), at(echo_reply(1), MS)])


def case_arp_retry_timeout():
    write("arp_retry_timeout.in.pcap", [at(echo_request(1), 0)])
    # Linux-like timing (engine/config.h): a request, then a retry every
    # second, three in all.
    write("arp_retry_timeout.expect.pcap",
          [at(our_arp_request(), k * S) for k in range(3)])


def case_truncated_ethernet():
    raw = Ether(dst=OUR_MAC, src=PEER_MAC, type=0x0800).build()[:10]
    write("truncated_ethernet.in.pcap", [at(raw, 0)])


def case_truncated_ip():
    raw = echo_request(1).build()[:14 + 12]
    write("truncated_ip.in.pcap", [at(raw, 0)])


def case_bad_ip_checksum():
    pkt = echo_request(1)
    good = Ether(pkt.build())[IP].chksum
    pkt[IP].chksum = good ^ 0x0101
    write("bad_ip_checksum.in.pcap", [at(pkt, 0)])


def case_total_length_beyond_frame():
    pkt = echo_request(1)
    real = len(pkt[IP])
    # Claims 100 bytes more than the frame carries; checksum stays valid
    # so only the length check can reject it.
    pkt[IP].len = real + 100
    write("total_length_beyond_frame.in.pcap", [at(pkt, 0)])


def case_ihl_below_5():
    pkt = echo_request(1)
    pkt[IP].ihl = 4
    write("ihl_below_5.in.pcap", [at(pkt, 0)])


CASES = [
    case_arp_request,
    case_arp_other_target,
    case_ping,
    case_ping_unknown_peer,
    case_arp_retry_timeout,
    case_truncated_ethernet,
    case_truncated_ip,
    case_bad_ip_checksum,
    case_total_length_beyond_frame,
    case_ihl_below_5,
]

if __name__ == "__main__":
    for case in CASES:
        case()
    sys.exit(0)
