/*
 * Per-shard counters.
 *
 * Every drop has its own counter, named after the reason, so a user can
 * tell a checksum problem from a routing one without a capture. Counters
 * are plain uint64_t written only by the owning shard (no atomics on the
 * fast path); readers on other threads (telemetry, the app's live stats)
 * read them relaxed and accept a value a few packets old.
 *
 * To add a counter, add one X() line below: the enum, the names and the
 * telemetry output follow.
 */
#ifndef WSKDP_STATS_H
#define WSKDP_STATS_H

#include <stdint.h>

#define SHARD_STATS(X) \
	X(rx_packets,              "frames received from ports") \
	X(rx_bytes,                "bytes received from ports") \
	X(tx_packets,              "frames handed to ports and accepted") \
	X(tx_bytes,                "bytes handed to ports and accepted") \
	X(tx_drop_port_full,       "frames the port refused (freed)") \
	X(tx_drop_no_mbuf,         "packets not built: mbuf pool empty") \
	X(tx_drop_no_route,        "packets with no on-link route or gateway") \
	X(eth_drop_short,          "frames shorter than an Ethernet header") \
	X(eth_drop_not_for_us,     "frames for another MAC address") \
	X(eth_drop_vlan,           "frames with a VLAN tag we do not serve") \
	X(eth_drop_unknown_type,   "frames of an EtherType we do not handle") \
	X(eth_drop_fragmented_hdr, "frames whose headers span mbuf segments") \
	X(arp_rx,                  "ARP packets received") \
	X(arp_drop_malformed,      "ARP packets with bad lengths or types") \
	X(arp_drop_not_for_us,     "ARP requests for addresses we do not own") \
	X(arp_drop_bad_sender,     "ARP packets from a broadcast/multicast/own address") \
	X(arp_requests_sent,       "ARP requests sent (incl. retries)") \
	X(arp_replies_sent,        "ARP replies sent") \
	X(arp_gratuitous_sent,     "gratuitous ARP announcements sent") \
	X(arp_resolved,            "addresses resolved") \
	X(arp_failed,              "addresses that never answered") \
	X(arp_drop_pending_full,   "packets dropped: too many waiting for one address") \
	X(arp_drop_unresolved,     "packets dropped: address never resolved") \
	X(arp_drop_table_full,     "packets dropped: ARP table full") \
	X(ip_rx,                   "IPv4 packets received") \
	X(ip_drop_short,           "IPv4 packets shorter than the header") \
	X(ip_drop_version,         "IPv4 packets with version != 4") \
	X(ip_drop_ihl,             "IPv4 packets with header length < 20 or beyond the frame") \
	X(ip_drop_bad_checksum,    "IPv4 header checksum failures") \
	X(ip_drop_total_length,    "IPv4 total length below header or beyond frame") \
	X(ip_drop_ttl,             "IPv4 packets arriving with TTL 0") \
	X(ip_drop_fragment,        "IPv4 fragments (not reassembled)") \
	X(ip_drop_options,         "IPv4 packets with options (not handled)") \
	X(ip_drop_bad_source,      "IPv4 packets from a martian source") \
	X(ip_drop_not_for_us,      "IPv4 packets for an address we do not own") \
	X(ip_drop_unknown_proto,   "IPv4 packets of a protocol we do not handle") \
	X(icmp_rx,                 "ICMP messages received") \
	X(icmp_drop_short,         "ICMP messages shorter than 8 bytes") \
	X(icmp_drop_bad_checksum,  "ICMP checksum failures") \
	X(icmp_drop_unhandled,     "ICMP types we do not handle") \
	X(icmp_echo_replies,       "ICMP echo replies sent") \
	X(icmp_echo_requests_sent, "ICMP echo requests sent") \
	X(icmp_echo_replies_rx,    "ICMP echo replies received") \
	X(icmp_dest_unreach_rx,    "ICMP destination-unreachable messages received") \
	SHARD_STATS_TCP(X)

/* TCP counters (filled in by the TCP engine). */
#define SHARD_STATS_TCP(X) \
	X(tcp_rx_segments,          "TCP segments received") \
	X(tcp_rx_batches,           "rx bursts whose connections were fetched together") \
	X(tcp_tx_segments,          "TCP segments sent") \
	X(tcp_drop_short,           "TCP segments shorter than the header") \
	X(tcp_drop_bad_offset,      "TCP segments with a bad data offset") \
	X(tcp_peer_mss_raised,      "peers' MSS options below 48 sent with as 48") \
	X(tcp_drop_bad_checksum,    "TCP checksum failures") \
	X(tcp_drop_bad_options,     "TCP segments with malformed options") \
	X(tcp_drop_bad_flags,       "TCP segments with SYN+RST, SYN+FIN or no flags") \
	X(tcp_drop_rst_no_conn,     "RSTs for no connection (ignored)") \
	X(tcp_rst_no_conn,          "segments for no connection answered by RST") \
	X(tcp_drop_listen_ack,      "ACKs to a listener answered by RST") \
	X(tcp_drop_backlog_full,    "SYNs dropped: listen backlog full") \
	X(tcp_drop_accept_full,     "handshakes dropped: accept queue full") \
	X(tcp_syncookies_sent,      "SYN-ACKs sent with a SYN cookie") \
	X(tcp_syncookies_ok,        "connections made from a valid SYN cookie") \
	X(tcp_syncookies_bad,       "ACKs with an invalid SYN cookie") \
	X(tcp_conn_table_full,      "connections refused: pool or table full") \
	X(tcp_conn_spills,          "connections kept in the overflow table: their slot was taken") \
	X(tcp_drop_syn_sent_bad_ack, "SYN_SENT: segments acking what we never sent") \
	X(tcp_drop_syn_sent_rst,    "SYN_SENT: RSTs without an acceptable ACK") \
	X(tcp_drop_syn_sent_no_syn, "SYN_SENT: segments with neither SYN nor RST") \
	X(tcp_drop_paws,            "segments failing PAWS (old timestamp)") \
	X(tcp_drop_out_of_window,   "segments outside the receive window") \
	X(tcp_drop_rst_out_of_window, "RSTs outside the receive window") \
	X(tcp_challenge_acks,       "challenge ACKs sent (RFC 5961)") \
	X(tcp_challenge_acks_limited, "challenge ACKs suppressed by the rate limit") \
	X(tcp_oow_acks_limited, "ACKs to unacceptable segments suppressed by the per-connection rate limit") \
	X(tcp_drop_syn_synchronized, "SYNs on synchronized connections (challenged)") \
	X(tcp_drop_no_ack,          "segments without ACK on synchronized connections") \
	X(tcp_drop_ack_old,         "ACKs too old to be acceptable (RFC 5961 §5)") \
	X(tcp_drop_ack_unsent,      "ACKs for data never sent") \
	X(tcp_drop_syn_rcvd_bad_ack, "SYN_RECEIVED: unacceptable ACKs (RST sent)") \
	X(tcp_drop_data_after_fin,  "data after the peer's FIN or in a closing state") \
	X(tcp_reass_queued,         "segments queued out of order") \
	X(tcp_reass_duplicate,      "out-of-order segments already held") \
	X(tcp_drop_reass_full,      "out-of-order segments dropped: queue full") \
	X(tcp_drop_rcv_full,        "in-order data beyond the receive buffer") \
	X(tcp_dup_acks,             "duplicate ACKs received") \
	X(tcp_fast_retransmits,     "fast retransmissions (recovery entered)") \
	X(tcp_sack_retransmits,     "segments retransmitted by SACK recovery") \
	X(tcp_rack_lost_segments,   "segments RACK marked lost (RFC 8985)") \
	X(tcp_tlp_probes,           "tail loss probes sent (RFC 8985)") \
	X(tcp_lost_retransmits,     "retransmissions RACK found lost again") \
	X(tcp_rexmt_timeouts,       "retransmission timeouts") \
	X(tcp_rexmt_segments,       "segments retransmitted") \
	X(tcp_persist_probes,       "zero-window probes sent") \
	X(tcp_delayed_acks,         "delayed ACKs sent by the timer") \
	X(tcp_keepalive_probes,     "keepalive probes sent") \
	X(tcp_keepalive_drops,      "connections reset after unanswered keepalive probes") \
	X(tcp_conn_active,          "connections opened actively") \
	X(tcp_conn_passive,         "connections accepted passively") \
	X(tcp_conn_refused,         "connections refused by the peer (RST to SYN)") \
	X(tcp_conn_reset,           "connections reset by the peer") \
	X(tcp_conn_timeout,         "connections timed out") \
	X(tcp_conn_aborted,         "connections aborted by the user") \
	X(tcp_time_wait_reused,     "TIME_WAIT connections reused by a new SYN") \
	X(tcp_rst_sent,             "RSTs sent") \
	X(tfo_cookie_requests_sent, "Fast Open: SYNs sent with a cookie request") \
	X(tfo_cookies_received,     "Fast Open: cookies received in SYN-ACKs and cached") \
	X(tfo_syn_data_sent,        "Fast Open: SYNs sent with a cookie and data") \
	X(tfo_syn_data_acked,       "Fast Open: SYN data acknowledged by the SYN-ACK") \
	X(tfo_fallbacks,            "Fast Open: SYN data not acknowledged, sent again after the handshake") \
	X(tfo_blackholed,           "Fast Open: servers given plain SYNs for a while (data lost or cookie ignored)") \
	X(tfo_server_cookies_sent,  "Fast Open server: cookies issued in SYN-ACKs") \
	X(tfo_server_syn_data_accepted, "Fast Open server: connections made from a SYN with data") \
	X(tfo_server_bad_cookie,    "Fast Open server: SYNs with an invalid cookie (data dropped)") \
	X(tfo_server_overflow,      "Fast Open server: SYN data refused, too many pending")

enum shard_stat {
#define SHARD_STAT_ENUM(name, help) SHARD_STAT_##name,
	SHARD_STATS(SHARD_STAT_ENUM)
#undef SHARD_STAT_ENUM
	SHARD_STAT_MAX
};

struct shard_stats {
	uint64_t v[SHARD_STAT_MAX];
};

/* Name and help text of each counter, indexed by enum shard_stat. */
extern const char *const shard_stat_names[SHARD_STAT_MAX];
extern const char *const shard_stat_help[SHARD_STAT_MAX];

#define STAT_INC(shard, name) ((shard)->stats.v[SHARD_STAT_##name]++)
#define STAT_ADD(shard, name, n) ((shard)->stats.v[SHARD_STAT_##name] += (n))
#define STAT_GET(shard, name) ((shard)->stats.v[SHARD_STAT_##name])

/* Look a counter up by name; returns -1 if there is none. */
int shard_stat_index(const char *name);

#endif
