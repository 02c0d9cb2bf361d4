#!/usr/bin/python3
"""Generate the tcp scenarios' input captures with scapy.

The engine is 10.0.0.1:80 (or the peer's server for active_handshake) at
02:00:00:00:00:01; the peer is 10.0.0.2:40000 at 02:00:00:00:00:02. The
peer's own sequence numbers are absolute (its ISN is chosen here); every
acknowledgment number and SACK edge of a segment it sends is written
relative to the engine's ISN taken as 0, and the TSecr of its ACKs as 0:
wskdp-scenario rewrites them with the engine's real ISN and latest TSval
when it injects the segment (see tests/scenario_runner.c). What the engine
must send is stated in each .scn's [expect_tcp], from the RFCs, not here.

Passive scenarios open with the peer's ARP request (the engine learns the
peer's MAC from it, as a real peer's would be learnt), so the engine's
first frame is its ARP reply; [expect_tcp] counts TCP frames only.

Run from anywhere: ./pcaps/tcp/generate.py. The output is deterministic
(fixed timestamps, no randomness), so regenerating leaves git clean.
"""
import os
import sys

from scapy.all import ARP, IP, TCP, Ether, Padding, Raw
from scapy.data import DLT_EN10MB
from scapy.utils import RawPcapWriter

HERE = os.path.dirname(os.path.abspath(__file__))

OUR_IP = "10.0.0.1"
OUR_MAC = "02:00:00:00:00:01"
PEER_IP = "10.0.0.2"
PEER_MAC = "02:00:00:00:00:02"
BCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"

OUR_PORT = 80
CLOSED_PORT = 81
PEER_PORT = 40000
PEER_ISN = 1000          # the peer's ISN in every passive scenario

T0 = 1700000000
MS = 1000  # microseconds
S = 1000000


def pad60(pkt):
    short = 60 - len(pkt)
    return pkt / Padding(b"\0" * short) if short > 0 else pkt


def arp_request_from_peer():
    return pad60(Ether(dst=BCAST, src=PEER_MAC) /
                 ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP,
                     hwdst=ZERO_MAC, pdst=OUR_IP))


def arp_reply_from_peer():
    return pad60(Ether(dst=OUR_MAC, src=PEER_MAC) /
                 ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP,
                     hwdst=OUR_MAC, pdst=OUR_IP))


def tsopt(t_ms):
    """The peer's timestamp option: its clock ticks once a ms from 100, so
    TSval never goes backwards (RFC 7323 PAWS). TSecr 0: the runner puts
    the engine's latest TSval there for segments with ACK."""
    return [("NOP", None), ("NOP", None), ("Timestamp", (100 + t_ms, 0))]


def syn_opts(t_ms, mss, ws=7, ts=True):
    # Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale.
    o = [("MSS", mss), ("SAckOK", b"")]
    if ts:
        o.append(("Timestamp", (100 + t_ms, 0)))
    if ws is not None:
        o += [("NOP", None), ("WScale", ws)]
    return o


def seg(t_ms, flags, seq, ack=0, win=512, opts=None, payload=b"",
        sport=PEER_PORT, dport=OUR_PORT):
    """One TCP segment from the peer at t_ms, as a pcap record. 'ack' is
    relative to the engine's ISN. Options default to the timestamp option
    (this peer agreed to timestamps); pass [] for none."""
    if opts is None:
        opts = tsopt(t_ms)
    pkt = (Ether(dst=OUR_MAC, src=PEER_MAC) /
           IP(src=PEER_IP, dst=OUR_IP, id=0x100 + t_ms % 0xff00, ttl=64) /
           TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
               window=win, options=opts))
    if payload:
        pkt = pkt / Raw(payload)
    return (t_ms * MS, bytes(pad60(pkt)))


def raw_tcp(t_ms, tcp_bytes, dport=OUR_PORT):
    """A segment from handmade TCP bytes (bad offsets, broken options),
    which scapy would not build; the checksum is computed here over exactly
    these bytes (RFC 9293 3.1 pseudo-header), so only the defect tested is
    wrong."""
    body = bytearray(tcp_bytes)
    body[16:18] = b"\0\0"
    pseudo = (bytes(map(int, PEER_IP.split("."))) +
              bytes(map(int, OUR_IP.split("."))) +
              bytes([0, 6]) + len(body).to_bytes(2, "big"))
    data = pseudo + bytes(body)
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big")
            for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    body[16:18] = ((~s) & 0xffff).to_bytes(2, "big")
    pkt = (Ether(dst=OUR_MAC, src=PEER_MAC) /
           IP(src=PEER_IP, dst=OUR_IP, id=0x100 + t_ms, ttl=64, proto=6) /
           Raw(bytes(body)))
    return (t_ms * MS, bytes(pad60(pkt)))


def tcp_header(flags, seq, options=b"", data_offset=None, dport=OUR_PORT):
    """Bare TCP header bytes (checksum 0, filled in by raw_tcp)."""
    hlen = 20 + len(options)
    if data_offset is None:
        data_offset = hlen // 4
    return (PEER_PORT.to_bytes(2, "big") + dport.to_bytes(2, "big") +
            seq.to_bytes(4, "big") + (0).to_bytes(4, "big") +
            bytes([data_offset << 4, flags]) + (65535).to_bytes(2, "big") +
            b"\0\0" + b"\0\0" + options)


def write(name, records):
    w = RawPcapWriter(os.path.join(HERE, name), linktype=DLT_EN10MB)
    w.write_header(None)
    for us, data in records:
        w.write_packet(data, sec=T0 + us // S, usec=us % S)
    w.close()


def arp_at_0():
    return (0, bytes(arp_request_from_peer()))


def passive_open(syn_ms=1, ack_ms=11, mss=1012, ws=7, win=512):
    """ARP at 0, SYN at syn_ms, ACK at ack_ms: the engine's SYN-ACK leaves
    at syn_ms, so its RTT sample is ack_ms - syn_ms."""
    return [arp_at_0(),
            seg(syn_ms, "S", PEER_ISN, win=65535,
                opts=syn_opts(syn_ms, mss, ws)),
            seg(ack_ms, "A", PEER_ISN + 1, ack=1, win=win)]


def case_passive_handshake():
    write("passive_handshake.in.pcap",
          [arp_at_0(),
           seg(1, "S", PEER_ISN, win=65535, opts=syn_opts(1, 1000)),
           seg(2, "A", PEER_ISN + 1, ack=1, win=512)])


def case_active_handshake():
    # The engine connects at 0 and asks for our MAC; our ARP reply, the
    # first input packet, is time 0 too and releases its SYN; our SYN-ACK
    # (ISN 5000) follows at 1 ms.
    write("active_handshake.in.pcap",
          [(0, bytes(arp_reply_from_peer())),
           seg(1, "SA", 5000, ack=1, win=65535, opts=syn_opts(1, 1460),
               sport=OUR_PORT, dport=PEER_PORT)])


def case_data_rto_retransmit():
    # 3 x 1000 bytes leave at 11 ms; we ACK the first at 21 ms and then
    # nothing until 260 ms, when we ACK everything.
    write("data_rto_retransmit.in.pcap",
          passive_open() +
          [seg(21, "A", PEER_ISN + 1, ack=1001),
           seg(260, "A", PEER_ISN + 1, ack=3001)])


def case_sack_fast_retransmit():
    # 8 x 1000 bytes leave at 11 ms; segment 2 (1001-2001) is lost: we ACK
    # segment 1 at 21 ms, then segments 3, 4, 5 arrive and each gets a
    # duplicate ACK with a growing SACK block; the retransmission fills the
    # hole and with 6..8 arrived meanwhile we ACK everything at 34 ms.
    recs = passive_open() + [seg(21, "A", PEER_ISN + 1, ack=1001)]
    for k, hi in enumerate((3001, 4001, 5001)):
        t = 22 + k
        recs.append(seg(t, "A", PEER_ISN + 1, ack=1001,
                        opts=tsopt(t) + [("SAck", (2001, hi))]))
    recs.append(seg(34, "A", PEER_ISN + 1, ack=8001))
    write("sack_fast_retransmit.in.pcap", recs)


def case_zero_window_probe():
    # No window scaling (so small windows are exact): we offer 2000 bytes,
    # take the first two segments and close the window at 21 ms (ACK 2001,
    # window 0: the right edge stays where it was). Each probe is answered
    # 1 ms later by the same zero window; at 700 ms we open 4000 bytes,
    # and ACK what arrives 1 ms after it arrives.
    recs = [arp_at_0(),
            seg(1, "S", PEER_ISN, win=2000, opts=syn_opts(1, 1012, ws=None)),
            seg(11, "A", PEER_ISN + 1, ack=1, win=2000),
            seg(21, "A", PEER_ISN + 1, ack=2001, win=0),
            seg(222, "A", PEER_ISN + 1, ack=2001, win=0),
            seg(622, "A", PEER_ISN + 1, ack=2001, win=0),
            seg(700, "A", PEER_ISN + 1, ack=2001, win=4000),
            seg(711, "A", PEER_ISN + 1, ack=4001, win=4000)]
    write("zero_window_probe.in.pcap", recs)


def case_simultaneous_close():
    # The engine's app shuts down at 20 ms; our FIN (sent before we saw
    # the engine's) arrives at 21 ms acking only the handshake; we ACK the
    # engine's FIN at 22 ms; at 100 ms we retransmit our FIN, which only a
    # connection in TIME-WAIT acknowledges (CLOSED would reset).
    write("simultaneous_close.in.pcap",
          passive_open() +
          [seg(21, "FA", PEER_ISN + 1, ack=1),
           seg(22, "A", PEER_ISN + 2, ack=2),
           seg(100, "FA", PEER_ISN + 1, ack=2)])


def case_rst_in_window_challenge_ack():
    # RST at 20 ms, 100 bytes into the window: not RCV.NXT, so a challenge
    # ACK; at 30 ms a RST exactly at RCV.NXT really resets.
    write("rst_in_window_challenge_ack.in.pcap",
          passive_open() +
          [seg(20, "R", PEER_ISN + 1 + 100, opts=[]),
           seg(30, "R", PEER_ISN + 1, opts=[])])


def case_rst_out_of_window_ignored():
    # RST at 20 ms a million bytes beyond RCV.NXT (the engine offers at most
    # its 256 KiB buffer); at 30 ms 100 bytes of data, which the echo app
    # sends back: the connection survived.
    write("rst_out_of_window_ignored.in.pcap",
          passive_open() +
          [seg(20, "R", PEER_ISN + 1 + 1000000, opts=[]),
           seg(30, "PA", PEER_ISN + 1, ack=1, payload=bytes(range(100)))])


def good_syn(t_ms, isn):
    return seg(t_ms, "S", isn, win=65535, opts=syn_opts(t_ms, 1460))


def case_bad_tcp_checksum():
    bad = seg(1, "S", 7000, win=65535, opts=syn_opts(1, 1460))
    frame = bytearray(bad[1])
    frame[14 + 20 + 16] ^= 0x01   # one bit of the TCP checksum
    write("bad_tcp_checksum.in.pcap",
          [arp_at_0(), (bad[0], bytes(frame)), good_syn(10, 9000)])


def case_bad_data_offset():
    write("bad_data_offset.in.pcap",
          [arp_at_0(),
           # offset 15 words (60 bytes) in a 20-byte segment
           raw_tcp(1, tcp_header(0x02, 7000, data_offset=15)),
           # offset 4 words: shorter than the fixed header
           raw_tcp(2, tcp_header(0x02, 7100, data_offset=4)),
           good_syn(10, 9000)])


def case_malformed_options():
    write("malformed_options.in.pcap",
          [arp_at_0(),
           # MSS with length 0
           raw_tcp(1, tcp_header(0x02, 7000, b"\x02\x00\x05\xb4")),
           # NOP, NOP, NOP, then a kind with length 1
           raw_tcp(2, tcp_header(0x02, 7100, b"\x01\x01\x01\x08\x01\x00\x00\x00")),
           # timestamps claiming 10 bytes with 6 left in the header
           raw_tcp(3, tcp_header(0x02, 7200, b"\x01\x01\x08\x0a\x00\x00\x00\x01")),
           good_syn(10, 9000)])


def case_syn_rst_together():
    write("syn_rst_together.in.pcap",
          [arp_at_0(),
           seg(1, "SR", 7000, win=65535, opts=[]),
           good_syn(10, 9000)])


def case_syn_to_closed_port():
    write("syn_to_closed_port.in.pcap",
          [arp_at_0(),
           seg(1, "S", 7000, win=65535, opts=syn_opts(1, 1460),
               dport=CLOSED_PORT)])


def case_psh_on_last_segment():
    write("psh_on_last_segment.in.pcap", passive_open())


def case_tiny_peer_mss():
    write("tiny_peer_mss.in.pcap", passive_open(mss=1))


CASES = [
    case_passive_handshake,
    case_active_handshake,
    case_data_rto_retransmit,
    case_sack_fast_retransmit,
    case_zero_window_probe,
    case_simultaneous_close,
    case_rst_in_window_challenge_ack,
    case_rst_out_of_window_ignored,
    case_bad_tcp_checksum,
    case_bad_data_offset,
    case_malformed_options,
    case_syn_rst_together,
    case_syn_to_closed_port,
    case_psh_on_last_segment,
    case_tiny_peer_mss,
]

if __name__ == "__main__":
    for case in CASES:
        case()
    sys.exit(0)
