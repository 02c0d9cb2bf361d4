#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <rte_config.h>
#include <rte_cfgfile.h>

#include "gen_profile.h"

enum section {
	SECTION_COMMON,
	SECTION_CLIENT,
	SECTION_SERVER,
	SECTION_COUNT,
};

static const char *const section_names[SECTION_COUNT] = {
	[SECTION_COMMON] = "common",
	[SECTION_CLIENT] = "client",
	[SECTION_SERVER] = "server",
};

enum value_type {
	TYPE_NUMBER,
	TYPE_SIZE,
	TYPE_DURATION,
	TYPE_ADDRESSES,
	TYPE_PORTS,
	TYPE_CHOICE,
	TYPE_BOOL,
	TYPE_PATH,
	TYPE_IFADDRS,
	TYPE_IPV4,
	TYPE_MAC,
};

struct option_desc {
	const char *name;
	enum section section;
	enum value_type type;
	size_t offset;			/* of the field in struct gen_config */
	uint64_t min, max;		/* number, size (bytes), duration (ms) */
	const char *const *choices;	/* choice: NULL-terminated, enum order */
	const char *def;		/* default as text; NULL: zero/empty */
	const char *arg;		/* the value's name in the usage */
	const char *help;
};

static const char *const mode_names[] = {
	[GEN_MODE_EMBEDDED] = "embedded",
	[GEN_MODE_CLIENT] = "client",
	[GEN_MODE_SERVER] = "server",
	NULL,
};

static const char *const close_names[] = {
	[GEN_CLOSE_GRACEFUL] = "graceful",
	[GEN_CLOSE_ABORTIVE] = "abortive",
	NULL,
};

#define FIELD(f) offsetof(struct gen_config, f)
#define KIB UINT64_C(1024)
#define GIB (KIB * KIB * KIB)
#define YEAR_MS (UINT64_C(365) * 24 * 3600 * 1000)

static const struct option_desc options[] = {
	{ "mode", SECTION_COMMON, TYPE_CHOICE, FIELD(mode), 0, 0, mode_names,
	  "embedded", "MODE",
	  "embedded: a client and a server joined in memory; client; server" },
	{ "duration", SECTION_COMMON, TYPE_DURATION, FIELD(duration_ms), 0, YEAR_MS,
	  NULL, "0", "TIME",
	  "stop after this long; 0 runs until SIGINT/SIGTERM (3s embedded)" },
	{ "shards", SECTION_COMMON, TYPE_NUMBER, FIELD(shards), 1, RTE_MAX_LCORE,
	  NULL, "1", "N", "shards (lcores) per side" },
	{ "tfo", SECTION_COMMON, TYPE_BOOL, FIELD(tfo), 0, 0, NULL, "no", NULL,
	  "TCP Fast Open: the client sends its request in the SYN, the server accepts it" },
	{ "verify-checksums", SECTION_COMMON, TYPE_BOOL, FIELD(verify_checksums), 0, 0, NULL, "no", NULL,
	  "embedded: compute and check IPv4/TCP checksums on the in-memory link (default: left to \"offload\" as on Linux loopback)" },
	{ "zero-copy", SECTION_COMMON, TYPE_BOOL, FIELD(zero_copy), 0, 0, NULL, "yes", NULL,
	  "send requests and responses out of their own memory (registered with wskapi) instead of copying them into mbufs" },
	{ "quiet", SECTION_COMMON, TYPE_BOOL, FIELD(quiet), 0, 0, NULL, "no", NULL,
	  "no live statistics and no summary, only errors" },
	{ "json", SECTION_COMMON, TYPE_PATH, FIELD(json_path), 0, 0, NULL, NULL,
	  "FILE", "write the results as JSON (- for standard output)" },
	{ "csv", SECTION_COMMON, TYPE_PATH, FIELD(csv_path), 0, 0, NULL, NULL,
	  "FILE", "write the per-second timeline as CSV (- for standard output)" },
	{ "capture", SECTION_COMMON, TYPE_PATH, FIELD(capture_path), 0, 0, NULL,
	  NULL, "FILE", "write the packets sent and received to a pcap file" },
	{ "time-wait", SECTION_COMMON, TYPE_DURATION, FIELD(time_wait_ms), 0,
	  240000, NULL, "60s", "TIME",
	  "TCP TIME_WAIT length (a 4-tuple is reused only after it)" },
	{ "min-rto", SECTION_COMMON, TYPE_DURATION, FIELD(min_rto_ms), 1,
	  60000, NULL, "5ms", "TIME",
	  "lower bound of TCP's retransmission timeout (5ms suits a LAN; 200ms is Linux's)" },
	{ "max-conns", SECTION_COMMON, TYPE_NUMBER, FIELD(max_conns), 64,
	  4194304, NULL, "16384", "N",
	  "TCP connections per shard, TIME_WAIT ones included" },
	{ "ip", SECTION_COMMON, TYPE_IFADDRS, FIELD(ip), 0, 0, NULL, NULL,
	  "ADDR/PREFIX[,...]", "addresses of the port (needed on a port)" },
	{ "gateway", SECTION_COMMON, TYPE_IPV4, FIELD(gateway), 0, 0, NULL, NULL,
	  "ADDR", "default gateway of the port" },
	{ "mtu", SECTION_COMMON, TYPE_NUMBER, FIELD(mtu), 576, 65535, NULL, "1500",
	  "N", "MTU of the port, up to 9000 (embedded: of the in-memory link, up to 65535)" },
	{ "vlan", SECTION_COMMON, TYPE_NUMBER, FIELD(vlan), 1, 4094, NULL, NULL,
	  "ID", "802.1Q VLAN id of the port (default: untagged)" },
	{ "mac", SECTION_COMMON, TYPE_MAC, FIELD(mac), 0, 0, NULL, NULL, "MAC",
	  "use this MAC instead of the port's own (net_ring, net_pcap, ...)" },
	{ "port", SECTION_COMMON, TYPE_NUMBER, FIELD(port), 0, 65535,
	  NULL, "0", "N", "DPDK port id to run on" },

	{ "local-addrs", SECTION_CLIENT, TYPE_ADDRESSES, FIELD(client.local_addrs),
	  0, 0, NULL, NULL, "ADDRS", "source addresses (default: the port's)" },
	{ "local-ports", SECTION_CLIENT, TYPE_PORTS, FIELD(client.local_ports),
	  0, 0, NULL, "1024-65535", "PORTS", "source ports" },
	{ "servers", SECTION_CLIENT, TYPE_ADDRESSES, FIELD(client.servers), 0, 0,
	  NULL, NULL, "ADDRS", "server addresses (needed in client mode)" },
	{ "server-ports", SECTION_CLIENT, TYPE_PORTS, FIELD(client.server_ports),
	  0, 0, NULL, "8080", "PORTS", "server ports" },
	{ "rate", SECTION_CLIENT, TYPE_NUMBER, FIELD(client.rate_cps), 1, 10000000,
	  NULL, NULL, "CPS", "open this many connections a second (not with --concurrency)" },
	{ "concurrency", SECTION_CLIENT, TYPE_NUMBER, FIELD(client.concurrency), 1,
	  10000000, NULL, "64", "N", "keep this many connections open (not with --rate)" },
	{ "connections", SECTION_CLIENT, TYPE_NUMBER, FIELD(client.connections), 1,
	  UINT64_C(1000000000000), NULL, NULL, "N",
	  "stop after this many connections (not with --duration)" },
	{ "request-size", SECTION_CLIENT, TYPE_SIZE, FIELD(client.request_size), 0,
	  GIB, NULL, "100", "SIZE", "bytes of each request (the write size in bulk mode)" },
	{ "request-file", SECTION_CLIENT, TYPE_PATH, FIELD(client.request_file), 0,
	  0, NULL, NULL, "FILE", "send this file's bytes as the request" },
	{ "response-size", SECTION_CLIENT, TYPE_SIZE, FIELD(client.response_size),
	  0, GIB, NULL, "100", "SIZE", "bytes of response expected" },
	{ "until-close", SECTION_CLIENT, TYPE_BOOL, FIELD(client.until_close), 0, 0,
	  NULL, "no", NULL, "read the response until the server closes" },
	{ "close", SECTION_CLIENT, TYPE_CHOICE, FIELD(client.close), 0, 0,
	  close_names, "graceful", "HOW", "close with FIN (graceful) or RST (abortive)" },
	{ "requests-per-connection", SECTION_CLIENT, TYPE_NUMBER,
	  FIELD(client.requests_per_connection), 1, 1000000000, NULL, "1", "N",
	  "requests on each connection before closing it (keep-alive)" },
	{ "bulk", SECTION_CLIENT, TYPE_BOOL, FIELD(client.bulk), 0, 0, NULL, "no",
	  NULL, "stream requests without waiting for responses, for throughput" },

	{ "listen-ports", SECTION_SERVER, TYPE_PORTS, FIELD(server.listen_ports), 0,
	  0, NULL, "8080", "PORTS", "ports to listen on" },
	{ "request-bytes", SECTION_SERVER, TYPE_SIZE, FIELD(server.request_bytes),
	  1, GIB, NULL, "100", "SIZE",
	  "answer once every this many bytes received (embedded: the client's request size)" },
	{ "reply-size", SECTION_SERVER, TYPE_SIZE, FIELD(server.reply_size), 0, GIB,
	  NULL, "100", "SIZE",
	  "bytes of response to each request (embedded: the client's --response-size)" },
	{ "reply-file", SECTION_SERVER, TYPE_PATH, FIELD(server.reply_file), 0, 0,
	  NULL, NULL, "FILE", "answer each request with this file's bytes" },
	{ "close-first", SECTION_SERVER, TYPE_BOOL, FIELD(server.close_first), 0, 0,
	  NULL, "no", NULL, "close after the response instead of waiting for the client" },
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

_Static_assert(OPTION_COUNT <= 64, "gen_config.given has one bit per option");
_Static_assert(sizeof(enum gen_mode) == sizeof(int) &&
	       sizeof(enum gen_close) == sizeof(int),
	       "choices are stored as int");

static const struct option_desc *
find_option(const char *name)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

static uint64_t
option_bit(const struct option_desc *o)
{
	return UINT64_C(1) << (o - options);
}

static void
set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Decimal digits only: strtoull would also take spaces, signs and "0x". */
static bool
parse_decimal(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return true;
}

static bool
multiply(uint64_t v, uint64_t unit, uint64_t *out)
{
	if (unit != 0 && v > UINT64_MAX / unit)
		return false;
	*out = v * unit;
	return true;
}

static bool
parse_number(const char *s, uint64_t *out)
{
	const char *end;

	return parse_decimal(s, &end, out) && *end == '\0';
}

static bool
parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, unit = 1;

	if (!parse_decimal(s, &end, &v))
		return false;
	if (*end != '\0') {
		switch (toupper((unsigned char)*end)) {
		case 'K': unit = KIB; break;
		case 'M': unit = KIB * KIB; break;
		case 'G': unit = GIB; break;
		default: return false;
		}
		if (end[1] != '\0')
			return false;
	}
	return multiply(v, unit, out);
}

/* A duration in milliseconds. */
static bool
parse_duration(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, unit;

	if (!parse_decimal(s, &end, &v))
		return false;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else
		return false;
	return multiply(v, unit, out);
}

static bool
parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

/* One element: A, A-B or A/N (N's host addresses, without the network and
 * broadcast addresses when there are more than two). */
static bool
parse_addr_range(const char *s, size_t len, struct gen_addr_range *r)
{
	const char *dash = memchr(s, '-', len), *slash = memchr(s, '/', len);

	if (dash != NULL) {
		if (!parse_ipv4(s, (size_t)(dash - s), &r->first) ||
		    !parse_ipv4(dash + 1, len - (size_t)(dash - s) - 1, &r->last))
			return false;
	} else if (slash != NULL) {
		char digits[4];
		size_t n = len - (size_t)(slash - s) - 1;
		uint64_t prefix;
		uint32_t mask, net;

		if (n == 0 || n >= sizeof(digits))
			return false;
		memcpy(digits, slash + 1, n);
		digits[n] = '\0';
		if (!parse_number(digits, &prefix) || prefix > 32 ||
		    !parse_ipv4(s, (size_t)(slash - s), &net))
			return false;
		mask = prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
		/* Host bits set would leave unclear what was meant. */
		if ((net & ~mask) != 0)
			return false;
		r->first = net;
		r->last = net | ~mask;
		if (prefix < 31) {
			r->first++;
			r->last--;
		}
	} else {
		if (!parse_ipv4(s, len, &r->first))
			return false;
		r->last = r->first;
	}
	return r->first != 0 && r->first <= r->last;
}

static bool
parse_addresses(const char *s, struct gen_addr_ranges *out)
{
	struct gen_addr_ranges v = { 0 };

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);

		if (v.n == GEN_MAX_ADDR_RANGES ||
		    !parse_addr_range(s, len, &v.r[v.n]))
			return false;
		v.n++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*out = v;
	return true;
}

static bool
parse_ports(const char *s, struct gen_port_range *out)
{
	const char *end;
	uint64_t first, last;

	if (!parse_decimal(s, &end, &first))
		return false;
	last = first;
	if (*end == '-' && !parse_number(end + 1, &last))
		return false;
	if (*end != '-' && *end != '\0')
		return false;
	if (first < 1 || first > last || last > 65535)
		return false;
	out->first = (uint16_t)first;
	out->last = (uint16_t)last;
	return true;
}

/* ADDR/PREFIX[,ADDR/PREFIX...]; no prefix means /32. */
static bool
parse_ifaddrs(const char *s, struct gen_ifaddrs *out)
{
	struct gen_ifaddrs v = { 0 };

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		const char *slash = memchr(s, '/', len);
		struct gen_ifaddr *a = &v.a[v.n];
		uint64_t prefix = 32;

		if (v.n == GEN_MAX_IFADDRS)
			return false;
		if (slash != NULL) {
			char digits[4];
			size_t n = len - (size_t)(slash - s) - 1;

			if (n == 0 || n >= sizeof(digits))
				return false;
			memcpy(digits, slash + 1, n);
			digits[n] = '\0';
			if (!parse_number(digits, &prefix) || prefix > 32)
				return false;
			len = (size_t)(slash - s);
		}
		if (!parse_ipv4(s, len, &a->ip) || a->ip == 0)
			return false;
		a->prefix = (uint8_t)prefix;
		v.n++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*out = v;
	return true;
}

/* A unicast, non-zero MAC: the port would drop its own traffic otherwise. */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]) ||
		    (i < 5 && s[i * 3 + 2] != ':'))
			return false;
	}
	if ((b[0] & 1) != 0 || (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return true;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* A size in the largest unit that divides it: "1G", "64K", "100". */
static void
format_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "GMK";
	uint64_t unit = GIB;

	for (int i = 0; v != 0 && i < 3; i++, unit /= KIB) {
		if (v % unit == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", v / unit, units[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, v);
}

/* A duration (ms) in the largest unit that divides it: "8760h", "0s". */
static void
format_duration(char *buf, size_t len, uint64_t ms)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
}

/* What the option accepts, as the end of "'V' is not ...". */
static void
describe_accepted(const struct option_desc *o, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t used;

	switch (o->type) {
	case TYPE_NUMBER:
		snprintf(buf, len, "a number between %" PRIu64 " and %" PRIu64,
			 o->min, o->max);
		break;
	case TYPE_SIZE:
		format_size(lo, sizeof(lo), o->min);
		format_size(hi, sizeof(hi), o->max);
		snprintf(buf, len, "a size between %s and %s (bytes, or with a K, M or G suffix)",
			 lo, hi);
		break;
	case TYPE_DURATION:
		format_duration(lo, sizeof(lo), o->min);
		format_duration(hi, sizeof(hi), o->max);
		snprintf(buf, len, "a duration between %s and %s (with ms, s, m or h; seconds if none)",
			 lo, hi);
		break;
	case TYPE_ADDRESSES:
		snprintf(buf, len, "a list of up to %d IPv4 addresses, ranges (A-B) or prefixes (A/N)",
			 GEN_MAX_ADDR_RANGES);
		break;
	case TYPE_PORTS:
		snprintf(buf, len, "a port or a range of ports (A-B) between 1 and 65535");
		break;
	case TYPE_CHOICE:
		used = (size_t)snprintf(buf, len, "one of");
		for (size_t i = 0; o->choices[i] != NULL && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s %s",
						 i == 0 ? "" : ",", o->choices[i]);
		break;
	case TYPE_BOOL:
		snprintf(buf, len, "yes, no, true, false, on, off, 1 or 0");
		break;
	case TYPE_PATH:
		snprintf(buf, len, "a path of 1 to %d characters", GEN_PATH_LEN - 1);
		break;
	case TYPE_IFADDRS:
		snprintf(buf, len, "a list of up to %d IPv4 addresses with an optional /prefix (0..32)",
			 GEN_MAX_IFADDRS);
		break;
	case TYPE_IPV4:
		snprintf(buf, len, "an IPv4 address");
		break;
	case TYPE_MAC:
		snprintf(buf, len, "a unicast MAC address (xx:xx:xx:xx:xx:xx)");
		break;
	}
}

/* Parse 'value' for option o into cfg; cfg is unchanged on error, and
 * err gets "WHERE: 'VALUE' is not ...". */
static int
set_option(struct gen_config *cfg, const struct option_desc *o,
	   const char *value, const char *where, char *err, size_t errlen)
{
	void *field = (char *)cfg + o->offset;
	char accepted[160];
	uint64_t n = 0;
	bool ok = false, b;

	if (value == NULL) {
		if (o->type != TYPE_BOOL) {
			set_error(err, errlen, "%s needs a value", where);
			return -EINVAL;
		}
		value = "yes";
	}
	switch (o->type) {
	case TYPE_NUMBER:
		ok = parse_number(value, &n) && n >= o->min && n <= o->max;
		break;
	case TYPE_SIZE:
		ok = parse_size(value, &n) && n >= o->min && n <= o->max;
		break;
	case TYPE_DURATION:
		ok = parse_duration(value, &n) && n >= o->min && n <= o->max;
		break;
	case TYPE_ADDRESSES: {
		struct gen_addr_ranges r;

		ok = parse_addresses(value, &r);
		if (ok)
			*(struct gen_addr_ranges *)field = r;
		break;
	}
	case TYPE_PORTS: {
		struct gen_port_range r;

		ok = parse_ports(value, &r);
		if (ok)
			*(struct gen_port_range *)field = r;
		break;
	}
	case TYPE_CHOICE:
		for (int i = 0; o->choices[i] != NULL; i++) {
			if (strcmp(value, o->choices[i]) == 0) {
				*(int *)field = i;
				ok = true;
				break;
			}
		}
		break;
	case TYPE_BOOL:
		ok = parse_bool(value, &b);
		if (ok)
			*(bool *)field = b;
		break;
	case TYPE_PATH:
		ok = value[0] != '\0' && strlen(value) < GEN_PATH_LEN;
		if (ok)
			strcpy(field, value);
		break;
	case TYPE_IFADDRS: {
		struct gen_ifaddrs a;

		ok = parse_ifaddrs(value, &a);
		if (ok)
			*(struct gen_ifaddrs *)field = a;
		break;
	}
	case TYPE_IPV4: {
		uint32_t ip;

		ok = parse_ipv4(value, strlen(value), &ip) && ip != 0;
		if (ok)
			*(uint32_t *)field = ip;
		break;
	}
	case TYPE_MAC: {
		uint8_t mac[6];

		ok = parse_mac(value, mac);
		if (ok)
			memcpy(field, mac, sizeof(mac));
		break;
	}
	}
	if (!ok) {
		describe_accepted(o, accepted, sizeof(accepted));
		set_error(err, errlen, "%s: '%s' is not %s", where, value, accepted);
		return -EINVAL;
	}
	if (o->type == TYPE_NUMBER || o->type == TYPE_SIZE || o->type == TYPE_DURATION)
		*(uint64_t *)field = n;
	cfg->given |= option_bit(o);
	return 0;
}

void
gen_config_defaults(struct gen_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (options[i].def != NULL)
			set_option(cfg, &options[i], options[i].def, "", NULL, 0);
	cfg->given = 0;
}

int
gen_config_set(struct gen_config *cfg, const char *name, const char *value,
	       char *err, size_t errlen)
{
	const struct option_desc *o = find_option(name);
	char where[CFG_NAME_LEN + 3];

	if (o == NULL) {
		set_error(err, errlen, "unknown option '--%s'", name);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "--%s", o->name);
	return set_option(cfg, o, value, where, err, errlen);
}

bool
gen_config_given(const struct gen_config *cfg, const char *name)
{
	const struct option_desc *o = find_option(name);

	return o != NULL && (cfg->given & option_bit(o)) != 0;
}

static int
section_index(const char *name)
{
	for (int i = 0; i < SECTION_COUNT; i++)
		if (strcmp(section_names[i], name) == 0)
			return i;
	return -1;
}

/* Set the options of one section of the file; 'seen' collects the options
 * the file gave, to refuse one given twice. */
static int
load_section(struct gen_config *cfg, struct rte_cfgfile *file, int index,
	     const char *path, uint64_t *seen, char *err, size_t errlen)
{
	char name[CFG_NAME_LEN], where[PATH_MAX + 2 * CFG_NAME_LEN + 8];
	struct rte_cfgfile_entry *entries;
	int n, section, rc = 0;

	n = rte_cfgfile_section_num_entries_by_index(file, name, index);
	if (n < 0) {
		set_error(err, errlen, "%s: cannot read section %d", path, index);
		return -EIO;
	}
	section = section_index(name);
	/* rte_cfgfile files entries before any section under "GLOBAL". */
	if (section < 0 && strcmp(name, "GLOBAL") == 0 && n == 0)
		return 0;
	entries = calloc(n > 0 ? (size_t)n : 1, sizeof(*entries));
	if (entries == NULL) {
		set_error(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = rte_cfgfile_section_entries_by_index(file, index, name, entries, n);
	if (section < 0 && strcmp(name, "GLOBAL") == 0) {
		set_error(err, errlen, "%s: %s: outside any section (the sections are [common], [client] and [server])",
			  path, n > 0 ? entries[0].name : "");
		rc = -EINVAL;
	} else if (section < 0) {
		set_error(err, errlen, "%s: [%s]: unknown section (the sections are [common], [client] and [server])",
			  path, name);
		rc = -EINVAL;
	}
	for (int i = 0; rc == 0 && i < n; i++) {
		const struct option_desc *o = find_option(entries[i].name);

		snprintf(where, sizeof(where), "%s: [%s] %s", path, name,
			 entries[i].name);
		if (o == NULL) {
			set_error(err, errlen, "%s: unknown option", where);
			rc = -EINVAL;
		} else if ((int)o->section != section) {
			set_error(err, errlen, "%s: belongs in [%s]", where,
				  section_names[o->section]);
			rc = -EINVAL;
		} else if (*seen & option_bit(o)) {
			set_error(err, errlen, "%s: given twice", where);
			rc = -EINVAL;
		} else {
			*seen |= option_bit(o);
			rc = set_option(cfg, o, entries[i].value, where, err, errlen);
		}
	}
	free(entries);
	return rc;
}

/* rte_cfgfile skips a line that is neither a section nor "name = value"
 * without a word, so "rate 5" would vanish: refuse such lines first. */
static int
check_lines(FILE *f, const char *path, char *err, size_t errlen)
{
	char *line = NULL, *p, *end;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if ((size_t)len > CFG_NAME_LEN + CFG_VALUE_LEN) {
			set_error(err, errlen, "%s:%d: line too long", path, lineno);
			rc = -EINVAL;
		} else if (*p == '\0') {
			continue;
		} else if (*p == '[' ? end[-1] != ']' : (*p == '=' || strchr(p, '=') == NULL)) {
			set_error(err, errlen, "%s:%d: '%s' is neither a [section] nor a name = value line",
				  path, lineno, p);
			rc = -EINVAL;
		}
	}
	free(line);
	return rc;
}

int
gen_config_load_file(struct gen_config *cfg, const char *path, char *err,
		     size_t errlen)
{
	const struct rte_cfgfile_parameters params = { .comment_character = '#' };
	struct rte_cfgfile *file;
	FILE *probe;
	uint64_t seen = 0;
	int n, rc = 0;

	/* rte_cfgfile says only "NULL": open it first for the reason. */
	probe = fopen(path, "r");
	if (probe == NULL) {
		int e = errno;

		set_error(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? -ENOENT : -EIO;
	}
	rc = check_lines(probe, path, err, errlen);
	fclose(probe);
	if (rc != 0)
		return rc;
	file = rte_cfgfile_load_with_params(path,
			CFG_FLAG_GLOBAL_SECTION | CFG_FLAG_EMPTY_VALUES, &params);
	if (file == NULL) {
		set_error(err, errlen, "%s: not a profile ([section] lines, name = value lines, # comments)",
			  path);
		return -EIO;
	}
	n = rte_cfgfile_num_sections(file, "", 0);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = load_section(cfg, file, i, path, &seen, err, errlen);
	rte_cfgfile_close(file);
	return rc;
}

int
gen_config_parse_args(struct gen_config *cfg, int argc, char **argv,
		      char *err, size_t errlen)
{
	char name[CFG_NAME_LEN];

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		const struct option_desc *o;
		size_t len;
		int rc;

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			set_error(err, errlen, "unexpected argument '%s'", arg);
			return -EINVAL;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (len >= sizeof(name)) {
			set_error(err, errlen, "unknown option '--%s'", arg);
			return -EINVAL;
		}
		memcpy(name, arg, len);
		name[len] = '\0';
		if (strcmp(name, "help") == 0)
			return 1;
		o = find_option(name);
		if (eq != NULL) {
			value = eq + 1;
		} else if (strcmp(name, "profile") == 0 ||
			   (o != NULL && o->type != TYPE_BOOL)) {
			/* Takes the next argument, whatever it looks like:
			 * "--duration -1" must reach the range check. */
			value = i + 1 < argc ? argv[++i] : NULL;
		} else {
			value = NULL;
		}
		if (strcmp(name, "profile") == 0) {
			if (value == NULL) {
				set_error(err, errlen, "--profile needs a value");
				return -EINVAL;
			}
			rc = gen_config_load_file(cfg, value, err, errlen);
		} else {
			rc = gen_config_set(cfg, name, value, err, errlen);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

uint64_t
gen_addr_ranges_count(const struct gen_addr_ranges *ranges)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < ranges->n; i++)
		n += (uint64_t)ranges->r[i].last - ranges->r[i].first + 1;
	return n;
}

/* a * b, saturating: the product of four ranges can exceed 2^64. */
static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	return (b != 0 && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

static uint64_t
ports_count(const struct gen_port_range *p)
{
	return (uint64_t)p->last - p->first + 1;
}

/* The first option of 'section' given, or NULL. */
static const struct option_desc *
first_given_in(const struct gen_config *cfg, enum section section)
{
	for (size_t i = 0; i < OPTION_COUNT; i++)
		if (options[i].section == section && (cfg->given & option_bit(&options[i])))
			return &options[i];
	return NULL;
}

int
gen_config_validate(struct gen_config *cfg, char *err, size_t errlen)
{
	const struct option_desc *o;
	uint64_t pairs;
	bool client = cfg->mode != GEN_MODE_SERVER;
	bool server = cfg->mode != GEN_MODE_CLIENT;

#define GIVEN(name) gen_config_given(cfg, name)
#define REFUSE(...) do { set_error(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

	if (!client && (o = first_given_in(cfg, SECTION_CLIENT)) != NULL)
		REFUSE("--%s is a client option: it does not apply to --mode server", o->name);
	if (!server && (o = first_given_in(cfg, SECTION_SERVER)) != NULL)
		REFUSE("--%s is a server option: it does not apply to --mode client", o->name);
	if (GIVEN("rate") && GIVEN("concurrency"))
		REFUSE("--rate and --concurrency: give one, not both");
	if (GIVEN("duration") && GIVEN("connections"))
		REFUSE("--duration and --connections: give one, not both");
	if (GIVEN("request-size") && GIVEN("request-file"))
		REFUSE("--request-size and --request-file: give one, not both");
	if (GIVEN("response-size") && cfg->client.until_close)
		REFUSE("--response-size and --until-close: give one, not both");
	if (GIVEN("reply-size") && GIVEN("reply-file"))
		REFUSE("--reply-size and --reply-file: give one, not both");
	if (cfg->client.bulk) {
		if (GIVEN("rate"))
			REFUSE("--bulk streams on --concurrency connections: --rate does not apply");
		if (GIVEN("connections"))
			REFUSE("--bulk runs for a --duration: --connections does not apply");
		if (GIVEN("requests-per-connection"))
			REFUSE("--bulk streams without requests: --requests-per-connection does not apply");
	}
	if (cfg->mode == GEN_MODE_CLIENT && cfg->client.servers.n == 0)
		REFUSE("--mode client needs --servers");
	if (GIVEN("gateway") && cfg->ip.n == 0)
		REFUSE("--gateway needs an --ip");
	/* A NIC takes 9000 at most (and a refused MTU would pass unnoticed
	 * on ports that have none to set); the in-memory link carries what
	 * IPv4 can, as Linux's loopback does. */
	if (cfg->mode != GEN_MODE_EMBEDDED && cfg->mtu > 9000)
		REFUSE("--mtu %" PRIu64 ": a port takes 576..9000 (up to 65535 only on the embedded run's in-memory link)",
		       cfg->mtu);
	if (cfg->mode == GEN_MODE_EMBEDDED) {
		static const char *const port_only[] = {
			"ip", "gateway", "vlan", "mac", "port",
		};

		for (size_t i = 0; i < sizeof(port_only) / sizeof(port_only[0]); i++)
			if (GIVEN(port_only[i]))
				REFUSE("--%s sets up a port: the embedded run makes its own in-memory link (use --mode client or server)",
				       port_only[i]);
		/* net_ring has no RSS to spread one side over several queues. */
		if (cfg->shards > 1)
			REFUSE("--shards %" PRIu64 ": the embedded run has one client and one server shard",
			       cfg->shards);
		if (GIVEN("request-bytes") && !cfg->client.bulk &&
		    !GIVEN("request-file") &&
		    cfg->server.request_bytes != cfg->client.request_size)
			REFUSE("--request-bytes (%" PRIu64 ") must equal --request-size (%" PRIu64
			       ") in embedded mode", cfg->server.request_bytes,
			       cfg->client.request_size);
	}
	if (cfg->mode == GEN_MODE_EMBEDDED) {
		/* The embedded run wires both sides itself: the client must
		 * be able to finish what it waits for. */
		if (cfg->client.until_close && GIVEN("close-first") && !cfg->server.close_first)
			REFUSE("--until-close needs the embedded server to close first: drop --close-first=no");
		if (GIVEN("reply-size") && GIVEN("response-size") &&
		    cfg->server.reply_size != cfg->client.response_size)
			REFUSE("--response-size (%" PRIu64 ") must equal --reply-size (%" PRIu64
			       ") in embedded mode", cfg->client.response_size,
			       cfg->server.reply_size);
	}

	cfg->load = GIVEN("rate") ? GEN_LOAD_RATE : GEN_LOAD_CONCURRENCY;
	cfg->stop = GIVEN("connections") ? GEN_STOP_CONNECTIONS : GEN_STOP_DURATION;
	if (client && cfg->load == GEN_LOAD_CONCURRENCY) {
		pairs = mul_sat(ports_count(&cfg->client.local_ports),
				ports_count(&cfg->client.server_ports));
		if (cfg->client.local_addrs.n > 0)
			pairs = mul_sat(pairs, gen_addr_ranges_count(&cfg->client.local_addrs));
		if (cfg->client.servers.n > 0)
			pairs = mul_sat(pairs, gen_addr_ranges_count(&cfg->client.servers));
		if (cfg->client.concurrency > pairs)
			REFUSE("--concurrency %" PRIu64 " needs more connections than the %" PRIu64
			       " distinct address and port pairs of --local-addrs, --local-ports, --servers and --server-ports",
			       cfg->client.concurrency, pairs);
	}
	if (cfg->mode == GEN_MODE_EMBEDDED) {
		if (!GIVEN("duration") && !GIVEN("connections"))
			cfg->duration_ms = GEN_EMBEDDED_DURATION_MS;
		if (!GIVEN("reply-size") && !GIVEN("reply-file"))
			cfg->server.reply_size = cfg->client.response_size;
		if (cfg->client.until_close)
			cfg->server.close_first = true;
		/* In memory nothing is lost, duplicated or delayed, so no old
		 * segment can reach a reused 4-tuple: the client may reuse
		 * it as soon as it closed. */
		if (!GIVEN("time-wait"))
			cfg->time_wait_ms = 0;
		if (!GIVEN("request-bytes") && cfg->client.request_size > 0)
			cfg->server.request_bytes = cfg->client.request_size;
		/* Bulk streams without waiting for answers. */
		if (cfg->client.bulk)
			cfg->server.reply_size = 0;
	}
#undef GIVEN
#undef REFUSE
	return 0;
}

static const char *
type_hint(const struct option_desc *o, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t used = 0;

	switch (o->type) {
	case TYPE_NUMBER:
		snprintf(buf, len, "%" PRIu64 "..%" PRIu64, o->min, o->max);
		break;
	case TYPE_SIZE:
		format_size(lo, sizeof(lo), o->min);
		format_size(hi, sizeof(hi), o->max);
		snprintf(buf, len, "%s..%s bytes, K/M/G", lo, hi);
		break;
	case TYPE_DURATION:
		format_duration(lo, sizeof(lo), o->min);
		format_duration(hi, sizeof(hi), o->max);
		snprintf(buf, len, "%s..%s, ms/s/m/h", lo, hi);
		break;
	case TYPE_ADDRESSES:
		snprintf(buf, len, "A, A-B or A/N, up to %d, comma-separated",
			 GEN_MAX_ADDR_RANGES);
		break;
	case TYPE_PORTS:
		snprintf(buf, len, "P or P-Q, 1..65535");
		break;
	case TYPE_CHOICE:
		buf[0] = '\0';
		for (size_t i = 0; o->choices[i] != NULL && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 i == 0 ? "" : "|", o->choices[i]);
		break;
	case TYPE_BOOL:
		snprintf(buf, len, "yes/no");
		break;
	case TYPE_PATH:
		snprintf(buf, len, "a path");
		break;
	case TYPE_IFADDRS:
		snprintf(buf, len, "up to %d, comma-separated", GEN_MAX_IFADDRS);
		break;
	case TYPE_IPV4:
		snprintf(buf, len, "A.B.C.D");
		break;
	case TYPE_MAC:
		snprintf(buf, len, "xx:xx:xx:xx:xx:xx, unicast");
		break;
	}
	return buf;
}

void
gen_config_usage(FILE *f)
{
	char hint[96], flag[64];

	fprintf(f, "options (on the command line as --name VALUE, in a profile as\n"
		   "name = VALUE under its [section]; a yes/no option alone means yes):\n"
		   "  --profile FILE  load options from an INI profile; later options override it\n"
		   "  --help          this text\n");
	for (int s = 0; s < SECTION_COUNT; s++) {
		fprintf(f, "[%s]\n", section_names[s]);
		for (size_t i = 0; i < OPTION_COUNT; i++) {
			const struct option_desc *o = &options[i];

			if ((int)o->section != s)
				continue;
			snprintf(flag, sizeof(flag), "--%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(f, "  %-28s %s\n", flag, o->help);
			fprintf(f, "  %-28s (%s", "", type_hint(o, hint, sizeof(hint)));
			if (o->def != NULL)
				fprintf(f, "; default %s", o->def);
			fprintf(f, ")\n");
		}
	}
}
