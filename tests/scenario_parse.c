/* wskdp-scenario: reading a .scn file and its captures. */
#include "scenario.h"

struct section_keys {
	const char *section;
	const char *const *keys;	/* NULL: any key (counters) */
	bool required;
};

static const char *const engine_keys[] = { "ip", "mac", "gateway", "vlan",
	"mtu", NULL };
static const char *const input_keys[] = { "pcap", "settle_ms", NULL };
static const char *const expect_keys[] = { "pcap", "check_time", "tx_frames", NULL };
static const char *const tcp_keys[] = { "listen", "connect", "lport", "app",
	"read_at_ms", "send", "shutdown_at_ms", "rcv_buf", "snd_buf", "sack",
	"timestamps", "wscale", "cc", "nodelay", "seed", "min_rto_ms", NULL };

static const struct section_keys sections[] = {
	{ "engine", engine_keys, true },
	{ "input", input_keys, true },
	{ "expect", expect_keys, false },
	{ "counters", NULL, false },
	{ "tcp", tcp_keys, false },
	{ "expect_tcp", NULL, false },	/* keys checked by parse_expect_tcp */
};

void
frame_list_free(struct frame_list *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		free(fl->v[i].data);
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

/* Append a copy of 'data'. Returns 0 or -ENOMEM. */
int
frame_list_add(struct frame_list *fl, uint64_t us, const uint8_t *data,
	       uint32_t len)
{
	struct frame *f;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 64;
		struct frame *v = realloc(fl->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		fl->v = v;
		fl->cap = cap;
	}
	f = &fl->v[fl->n];
	/* malloc(0) may return NULL; a zero-length frame still needs a slot. */
	f->data = malloc(len ? len : 1);
	if (f->data == NULL)
		return -ENOMEM;
	memcpy(f->data, data, len);
	f->len = len;
	f->us = us;
	fl->n++;
	return 0;
}

/* Parse an unsigned decimal that must fill the whole string. Returns 0 or
 * -EINVAL. */
static int
parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
bad_key(const struct scenario *sc, const char *section, const char *key,
	const char *value, const char *why)
{
	fprintf(stderr, "%s: [%s] %s = '%s': %s\n", sc->path, section, key,
		value, why);
	return -EINVAL;
}

/* Resolve 'name' against the scenario file's directory. */
static void
scenario_file(const struct scenario *sc, const char *name, char *out,
	      size_t len)
{
	const char *slash = strrchr(sc->path, '/');

	if (name[0] == '/' || slash == NULL)
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%.*s/%s", (int)(slash - sc->path),
			 sc->path, name);
}

/* Read every record of an Ethernet capture. Returns 0 or -EINVAL (the
 * message names the file). */
static int
load_pcap(const struct scenario *sc, const char *section, const char *name,
	  struct frame_list *fl)
{
	char path[PATH_MAX], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int rc;

	scenario_file(sc, name, path, sizeof(path));
	p = pcap_open_offline_with_tstamp_precision(path,
		PCAP_TSTAMP_PRECISION_MICRO, err);
	if (p == NULL)
		return bad_key(sc, section, "pcap", name, err);
	if (pcap_datalink(p) != DLT_EN10MB) {
		pcap_close(p);
		return bad_key(sc, section, "pcap", name,
			       "not an Ethernet (DLT_EN10MB) capture");
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		/* tv_sec comes from a 32-bit field; hostile tv_usec values
		 * beyond a second just add up, they cannot overflow. */
		uint64_t us = (uint64_t)h->ts.tv_sec * 1000000ULL +
			      (uint64_t)h->ts.tv_usec;

		if (frame_list_add(fl, us, data, h->caplen) != 0) {
			pcap_close(p);
			return bad_key(sc, section, "pcap", name,
				       "out of memory");
		}
	}
	if (rc != PCAP_ERROR_BREAK) {
		snprintf(err, sizeof(err), "%s", pcap_geterr(p));
		pcap_close(p);
		return bad_key(sc, section, "pcap", name, err);
	}
	pcap_close(p);
	return 0;
}

/* Check one section's keys against the allowed list and for repeats. */
static int
check_section_keys(struct scenario *sc, struct rte_cfgfile *cfg,
		   const struct section_keys *sk)
{
	int ne = rte_cfgfile_section_num_entries(cfg, sk->section);
	struct rte_cfgfile_entry *e;
	int rc = 0;

	if (ne <= 0)
		return 0;
	e = calloc(ne, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	ne = rte_cfgfile_section_entries(cfg, sk->section, e, ne);
	for (int j = 0; j < ne && rc == 0; j++) {
		bool known = sk->keys == NULL;

		for (const char *const *k = sk->keys; k != NULL && *k; k++)
			if (strcmp(e[j].name, *k) == 0)
				known = true;
		if (!known)
			rc = bad_key(sc, sk->section, e[j].name, e[j].value,
				     "unknown key");
		for (int l = 0; l < j && rc == 0; l++)
			if (strcmp(e[j].name, e[l].name) == 0)
				rc = bad_key(sc, sk->section, e[j].name,
					     e[j].value, "key given twice");
	}
	free(e);
	return rc;
}

/* Is names[i] also one of names[0..i-1]? Exact names: the library's
 * section count matches prefixes ([expect] would count [expect_tcp]). */
static bool
section_repeated(char (*names)[CFG_NAME_LEN], int i)
{
	for (int j = 0; j < i; j++)
		if (strcmp(names[i], names[j]) == 0)
			return true;
	return false;
}

/* Refuse sections and keys we do not know, repeats, and missing required
 * sections, so a typo cannot silently turn a check off. */
static int
check_layout(struct scenario *sc, struct rte_cfgfile *cfg)
{
	int n = rte_cfgfile_num_sections(cfg, NULL, 0);
	char (*names)[CFG_NAME_LEN] = NULL;
	char **ptrs = NULL;
	int rc = 0;

	if (n > 0) {
		names = calloc(n, sizeof(*names));
		ptrs = calloc(n, sizeof(*ptrs));
		if (names == NULL || ptrs == NULL) {
			free(names);
			free(ptrs);
			return -ENOMEM;
		}
		for (int i = 0; i < n; i++)
			ptrs[i] = names[i];
		n = rte_cfgfile_sections(cfg, ptrs, n);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const struct section_keys *sk = NULL;

		for (size_t k = 0; k < RTE_DIM(sections); k++)
			if (strcmp(names[i], sections[k].section) == 0)
				sk = &sections[k];
		if (sk == NULL) {
			fprintf(stderr, "%s: [%s]: unknown section\n", sc->path,
				names[i]);
			rc = -EINVAL;
		} else if (section_repeated(names, i)) {
			fprintf(stderr, "%s: [%s]: section given twice\n",
				sc->path, names[i]);
			rc = -EINVAL;
		} else {
			rc = check_section_keys(sc, cfg, sk);
		}
	}
	for (size_t k = 0; k < RTE_DIM(sections) && rc == 0; k++)
		if (sections[k].required &&
		    !rte_cfgfile_has_section(cfg, sections[k].section)) {
			fprintf(stderr, "%s: missing section [%s]\n", sc->path,
				sections[k].section);
			rc = -EINVAL;
		}
	free(names);
	free(ptrs);
	return rc;
}

static const char *
required(struct scenario *sc, struct rte_cfgfile *cfg, const char *section,
	 const char *key)
{
	const char *v = rte_cfgfile_get_entry(cfg, section, key);

	if (v == NULL)
		fprintf(stderr, "%s: [%s] %s: missing key\n", sc->path,
			section, key);
	return v;
}

static int
parse_engine(struct scenario *sc, struct rte_cfgfile *cfg)
{
	const char *v;
	uint64_t vlan;

	memset(&sc->pc, 0, sizeof(sc->pc));
	v = required(sc, cfg, "engine", "ip");
	if (v == NULL)
		return -EINVAL;
	sc->pc.nb_addrs = 1;
	if (port_parse_ipv4(v, &sc->pc.addrs[0].ip, &sc->pc.addrs[0].prefix) != 0)
		return bad_key(sc, "engine", "ip", v, "expected A.B.C.D/LEN");
	v = required(sc, cfg, "engine", "mac");
	if (v == NULL)
		return -EINVAL;
	if (rte_ether_unformat_addr(v, &sc->mac) != 0 ||
	    !rte_is_valid_assigned_ether_addr(&sc->mac))
		return bad_key(sc, "engine", "mac", v,
			       "expected a unicast xx:xx:xx:xx:xx:xx");
	v = rte_cfgfile_get_entry(cfg, "engine", "gateway");
	if (v != NULL && port_parse_ipv4(v, &sc->pc.gateway, NULL) != 0)
		return bad_key(sc, "engine", "gateway", v, "expected A.B.C.D");
	v = rte_cfgfile_get_entry(cfg, "engine", "vlan");
	if (v != NULL) {
		if (parse_u64(v, 4094, &vlan) != 0)
			return bad_key(sc, "engine", "vlan", v,
				       "expected 0..4094");
		sc->pc.vlan_id = (uint16_t)vlan;
	}
	v = rte_cfgfile_get_entry(cfg, "engine", "mtu");
	if (v != NULL) {
		uint64_t mtu;

		if (parse_u64(v, 9000, &mtu) != 0 || mtu < 68)
			return bad_key(sc, "engine", "mtu", v,
				       "expected 68..9000");
		sc->pc.mtu = (uint16_t)mtu;
	}
	return 0;
}

static int
parse_io(struct scenario *sc, struct rte_cfgfile *cfg)
{
	const char *v;
	uint64_t flag;

	v = required(sc, cfg, "input", "pcap");
	if (v == NULL || load_pcap(sc, "input", v, &sc->input) != 0)
		return -EINVAL;
	v = rte_cfgfile_get_entry(cfg, "input", "settle_ms");
	if (v != NULL && parse_u64(v, MAX_RUN_US / 1000, &sc->settle_ms) != 0)
		return bad_key(sc, "input", "settle_ms", v,
			       "expected 0..3600000");
	/* The latest packet, not the last: timestamps may go backwards. */
	for (size_t i = 1; i < sc->input.n; i++)
		if (sc->input.v[i].us > sc->input.v[0].us + MAX_RUN_US)
			return bad_key(sc, "input", "pcap",
				rte_cfgfile_get_entry(cfg, "input", "pcap"),
				"capture spans more than 3600 s");

	if (!rte_cfgfile_has_section(cfg, "expect"))
		return 0;
	v = rte_cfgfile_get_entry(cfg, "expect", "pcap");
	if (v != NULL) {
		if (load_pcap(sc, "expect", v, &sc->expect) != 0)
			return -EINVAL;
		sc->has_expect = true;
	}
	v = rte_cfgfile_get_entry(cfg, "expect", "tx_frames");
	if (v != NULL) {
		if (parse_u64(v, UINT32_MAX, &sc->tx_frames) != 0)
			return bad_key(sc, "expect", "tx_frames", v,
				       "expected a count");
		sc->has_tx_frames = true;
	}
	v = rte_cfgfile_get_entry(cfg, "expect", "check_time");
	if (v != NULL) {
		if (parse_u64(v, 1, &flag) != 0)
			return bad_key(sc, "expect", "check_time", v,
				       "expected 0 or 1");
		sc->check_time = flag == 1;
	}
	if (sc->check_time && !sc->has_expect)
		return bad_key(sc, "expect", "check_time", v,
			       "needs [expect] pcap");
	if (sc->check_time) {
		if (sc->input.n == 0)
			return bad_key(sc, "expect", "check_time", v,
				       "needs at least one input packet");
		for (size_t i = 0; i < sc->expect.n; i++)
			if (sc->expect.v[i].us < sc->input.v[0].us)
				return bad_key(sc, "expect", "pcap",
					rte_cfgfile_get_entry(cfg, "expect", "pcap"),
					"frame stamped before the first input packet");
	}
	return 0;
}

static int
parse_counters(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct rte_cfgfile_entry e[SHARD_STAT_MAX];
	int n;

	if (!rte_cfgfile_has_section(cfg, "counters"))
		return 0;
	n = rte_cfgfile_section_num_entries(cfg, "counters");
	if (n > SHARD_STAT_MAX) {
		fprintf(stderr, "%s: [counters]: more entries than counters\n",
			sc->path);
		return -EINVAL;
	}
	n = rte_cfgfile_section_entries(cfg, "counters", e, n);
	for (int i = 0; i < n; i++) {
		struct counter_check *c = &sc->counters[i];
		int idx = shard_stat_index(e[i].name);

		if (idx < 0)
			return bad_key(sc, "counters", e[i].name, e[i].value,
				       "no such counter in engine/stats.h");
		if (parse_u64(e[i].value, UINT64_MAX, &c->value) != 0)
			return bad_key(sc, "counters", e[i].name, e[i].value,
				       "expected an unsigned number");
		c->name = shard_stat_names[idx];
		c->stat = (enum shard_stat)idx;
	}
	sc->nb_counters = (unsigned)n;
	return 0;
}

/* An optional 0|1 key of [tcp]. */
static int
tcp_flag(struct scenario *sc, struct rte_cfgfile *cfg, const char *key,
	 bool *out)
{
	const char *v = rte_cfgfile_get_entry(cfg, "tcp", key);
	uint64_t f;

	if (v == NULL)
		return 0;
	if (parse_u64(v, 1, &f) != 0)
		return bad_key(sc, "tcp", key, v, "expected 0 or 1");
	*out = f == 1;
	return 0;
}

/* An optional number of [tcp] up to 'max'. */
static int
tcp_number(struct scenario *sc, struct rte_cfgfile *cfg, const char *key,
	   uint64_t max, bool *given, uint64_t *out)
{
	const char *v = rte_cfgfile_get_entry(cfg, "tcp", key);

	*given = v != NULL;
	if (v == NULL)
		return 0;
	if (parse_u64(v, max, out) != 0) {
		char why[48];

		snprintf(why, sizeof(why), "expected 0..%" PRIu64, max);
		return bad_key(sc, "tcp", key, v, why);
	}
	return 0;
}

static int
parse_tcp_app(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct tcp_spec *t = &sc->tcp;
	const char *v = rte_cfgfile_get_entry(cfg, "tcp", "app");
	uint64_t n;
	bool given;

	t->app = TCP_APP_DISCARD;
	if (v != NULL) {
		if (strcmp(v, "echo") == 0)
			t->app = TCP_APP_ECHO;
		else if (strcmp(v, "hold") == 0)
			t->app = TCP_APP_HOLD;
		else if (strcmp(v, "discard") != 0)
			return bad_key(sc, "tcp", "app", v,
				       "expected echo, discard or hold");
	}
	if (tcp_number(sc, cfg, "read_at_ms", MAX_RUN_US / 1000, &given, &n))
		return -EINVAL;
	if (given && t->app != TCP_APP_HOLD)
		return bad_key(sc, "tcp", "read_at_ms",
			       rte_cfgfile_get_entry(cfg, "tcp", "read_at_ms"),
			       "only with app = hold");
	t->has_read_at = given;
	t->read_at_us = n * 1000;
	if (tcp_number(sc, cfg, "send", UINT32_MAX, &given, &t->send))
		return -EINVAL;
	if (tcp_number(sc, cfg, "shutdown_at_ms", MAX_RUN_US / 1000, &given, &n))
		return -EINVAL;
	t->has_shutdown_at = given;
	t->shutdown_at_us = n * 1000;
	return 0;
}

/* Settings of tcp_conf the scenario may change. */
static int
parse_tcp_conf(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct tcp_conf *c = &sc->tcp.conf;
	const char *v;
	uint64_t n;
	bool given;

	tcp_conf_init(c);
	c->seed = 1;
	if (tcp_number(sc, cfg, "rcv_buf", UINT32_MAX, &given, &n))
		return -EINVAL;
	if (given)
		c->rcv_buf = (uint32_t)n;
	if (tcp_number(sc, cfg, "snd_buf", UINT32_MAX, &given, &n))
		return -EINVAL;
	if (given)
		c->snd_buf = (uint32_t)n;
	if (tcp_number(sc, cfg, "wscale", 14, &given, &n))
		return -EINVAL;
	if (given)
		c->wscale = (uint8_t)n;
	if (tcp_number(sc, cfg, "min_rto_ms", UINT32_MAX / 1000, &given, &n))
		return -EINVAL;
	if (given)
		c->min_rto_us = (uint32_t)n * 1000;
	if (tcp_number(sc, cfg, "seed", UINT64_MAX, &given, &n))
		return -EINVAL;
	if (given) {
		if (n == 0)
			return bad_key(sc, "tcp", "seed", "0",
				       "0 means random keys: not reproducible");
		c->seed = n;
	}
	if (tcp_flag(sc, cfg, "sack", &c->sack) != 0 ||
	    tcp_flag(sc, cfg, "timestamps", &c->timestamps) != 0 ||
	    tcp_flag(sc, cfg, "nodelay", &sc->tcp.nodelay) != 0)
		return -EINVAL;
	v = rte_cfgfile_get_entry(cfg, "tcp", "cc");
	if (v != NULL) {
		/* Static strings: the file's text is gone after loading. */
		if (strcmp(v, "newreno") == 0)
			c->cc = "newreno";
		else if (strcmp(v, "cubic") == 0)
			c->cc = "cubic";
		else
			return bad_key(sc, "tcp", "cc", v,
				       "expected newreno or cubic");
	}
	return 0;
}

static int
parse_tcp(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct tcp_spec *t = &sc->tcp;
	const char *listen, *conn, *v;
	uint64_t n;
	bool given;

	if (!rte_cfgfile_has_section(cfg, "tcp"))
		return 0;
	t->enabled = true;
	listen = rte_cfgfile_get_entry(cfg, "tcp", "listen");
	conn = rte_cfgfile_get_entry(cfg, "tcp", "connect");
	if ((listen == NULL) == (conn == NULL)) {
		fprintf(stderr, "%s: [tcp]: exactly one of listen and connect "
			"is needed\n", sc->path);
		return -EINVAL;
	}
	if (listen != NULL) {
		if (parse_u64(listen, 65535, &n) != 0 || n == 0)
			return bad_key(sc, "tcp", "listen", listen,
				       "expected a port 1..65535");
		t->listen_port = (uint16_t)n;
		if (rte_cfgfile_get_entry(cfg, "tcp", "lport") != NULL)
			return bad_key(sc, "tcp", "lport",
				       rte_cfgfile_get_entry(cfg, "tcp", "lport"),
				       "only with connect");
	} else {
		char ip[32];
		const char *colon = strrchr(conn, ':');

		if (colon == NULL || (size_t)(colon - conn) >= sizeof(ip) ||
		    parse_u64(colon + 1, 65535, &n) != 0 || n == 0)
			return bad_key(sc, "tcp", "connect", conn,
				       "expected A.B.C.D:PORT");
		snprintf(ip, sizeof(ip), "%.*s", (int)(colon - conn), conn);
		if (port_parse_ipv4(ip, &t->connect_ip, NULL) != 0)
			return bad_key(sc, "tcp", "connect", conn,
				       "expected A.B.C.D:PORT");
		t->connect_port = (uint16_t)n;
		if (tcp_number(sc, cfg, "lport", 65535, &given, &n))
			return -EINVAL;
		t->lport = (uint16_t)n;
	}
	v = rte_cfgfile_get_entry(cfg, "tcp", "nodelay");
	if (v != NULL && conn == NULL)
		return bad_key(sc, "tcp", "nodelay", v, "only with connect");
	if (parse_tcp_app(sc, cfg) != 0)
		return -EINVAL;
	return parse_tcp_conf(sc, cfg);
}

/* "mss,ts" into OPT_* bits. Returns 0 or -EINVAL. */
static int
parse_opt_list(const char *text, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {
		{ "mss", OPT_MSS }, { "ws", OPT_WS }, { "sackok", OPT_SACKOK },
		{ "ts", OPT_TS }, { "sack", OPT_SACK }, { "tfo", OPT_TFO },
	};
	const char *p = text;

	*out = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < RTE_DIM(names); i++)
			if (strlen(names[i].name) == len &&
			    strncmp(p, names[i].name, len) == 0) {
				*out |= names[i].bit;
				found = true;
			}
		if (!found)
			return -EINVAL;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* "SA" or "A[P]" into required and optional flag bits. */
static int
parse_flags(const char *text, uint8_t *req, uint8_t *opt)
{
	bool in_brackets = false;

	*req = *opt = 0;
	if (*text == '\0')
		return -EINVAL;
	for (const char *p = text; *p != '\0'; p++) {
		uint8_t bit;

		switch (*p) {
		case 'S': bit = RTE_TCP_SYN_FLAG; break;
		case 'A': bit = RTE_TCP_ACK_FLAG; break;
		case 'F': bit = RTE_TCP_FIN_FLAG; break;
		case 'R': bit = RTE_TCP_RST_FLAG; break;
		case 'P': bit = RTE_TCP_PSH_FLAG; break;
		case '[':
			if (in_brackets)
				return -EINVAL;
			in_brackets = true;
			continue;
		case ']':
			if (!in_brackets)
				return -EINVAL;
			in_brackets = false;
			continue;
		default:
			return -EINVAL;
		}
		if ((*req | *opt) & bit)
			return -EINVAL;
		if (in_brackets)
			*opt |= bit;
		else
			*req |= bit;
	}
	return in_brackets ? -EINVAL : 0;
}

/* "L-H,L-H" into SACK blocks. */
static int
parse_sack_list(const char *text, struct tcp_check *k)
{
	const char *p = text;
	char buf[24];

	k->nb_sack = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		char *dash;
		uint64_t lo, hi;

		if (len == 0 || len >= sizeof(buf) || k->nb_sack == MAX_SACK_BLOCKS)
			return -EINVAL;
		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		dash = strchr(buf, '-');
		if (dash == NULL)
			return -EINVAL;
		*dash = '\0';
		if (parse_u64(buf, UINT32_MAX, &lo) != 0 ||
		    parse_u64(dash + 1, UINT32_MAX, &hi) != 0)
			return -EINVAL;
		k->sack[k->nb_sack][0] = (uint32_t)lo;
		k->sack[k->nb_sack][1] = (uint32_t)hi;
		k->nb_sack++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* One token of a frameK line. Returns 0 or -EINVAL. */
static int
parse_tcp_token(const char *tok, struct tcp_check *k)
{
	static const struct {
		const char *prefix;
		uint32_t bit;
	} numbers[] = {
		{ "seq=", CHK_SEQ }, { "ack=", CHK_ACK }, { "len=", CHK_LEN },
		{ "win=", CHK_WIN }, { "at_ms=", CHK_AT },
		{ "at_ms>=", CHK_AT_GE }, { "at_ms<=", CHK_AT_LE },
	};
	uint64_t v;

	if (strncmp(tok, "flags=", 6) == 0) {
		k->given |= CHK_FLAGS;
		return parse_flags(tok + 6, &k->flags_req, &k->flags_opt);
	}
	if (strcmp(tok, "win>0") == 0) {
		k->given |= CHK_WIN_OPEN;
		return 0;
	}
	if (strncmp(tok, "opts=", 5) == 0) {
		k->given |= CHK_OPTS;
		return parse_opt_list(tok + 5, &k->opts);
	}
	if (strncmp(tok, "noopts=", 7) == 0) {
		k->given |= CHK_NOOPTS;
		return parse_opt_list(tok + 7, &k->noopts);
	}
	if (strncmp(tok, "sack=", 5) == 0) {
		k->given |= CHK_SACK;
		return parse_sack_list(tok + 5, k);
	}
	for (size_t i = 0; i < RTE_DIM(numbers); i++) {
		size_t plen = strlen(numbers[i].prefix);

		if (strncmp(tok, numbers[i].prefix, plen) != 0)
			continue;
		if (parse_u64(tok + plen, UINT32_MAX, &v) != 0)
			return -EINVAL;
		k->given |= numbers[i].bit;
		switch (numbers[i].bit) {
		case CHK_SEQ: k->seq = (uint32_t)v; break;
		case CHK_ACK: k->ack = (uint32_t)v; break;
		case CHK_LEN: k->len = (uint32_t)v; break;
		case CHK_WIN: k->win = (uint32_t)v; break;
		case CHK_AT: k->at_ms = v; break;
		case CHK_AT_GE: k->at_ge_ms = v; break;
		default: k->at_le_ms = v; break;
		}
		return 0;
	}
	return -EINVAL;
}

/* A frameK line: "frame" and a number from 1, then tokens. */
static int
parse_tcp_frame_line(struct scenario *sc, const struct rte_cfgfile_entry *e,
		     struct tcp_check *k)
{
	char text[CFG_VALUE_LEN];
	uint64_t frame;
	char *save = NULL;

	if (strncmp(e->name, "frame", 5) != 0 ||
	    parse_u64(e->name + 5, UINT32_MAX, &frame) != 0 || frame == 0)
		return bad_key(sc, "expect_tcp", e->name, e->value,
			       "unknown key (frameK from 1, or tcp_frames)");
	memset(k, 0, sizeof(*k));
	k->frame = (unsigned)frame;
	snprintf(text, sizeof(text), "%s", e->value);
	for (char *tok = strtok_r(text, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		uint32_t before = k->given;

		if (parse_tcp_token(tok, k) != 0) {
			char why[CFG_VALUE_LEN + 32];

			snprintf(why, sizeof(why), "bad token '%s'", tok);
			return bad_key(sc, "expect_tcp", e->name, e->value, why);
		}
		if (before == k->given) {
			char why[CFG_VALUE_LEN + 32];

			snprintf(why, sizeof(why), "token '%s' given twice", tok);
			return bad_key(sc, "expect_tcp", e->name, e->value, why);
		}
	}
	if (k->given == 0)
		return bad_key(sc, "expect_tcp", e->name, e->value,
			       "no tokens");
	return 0;
}

static int
parse_expect_tcp(struct scenario *sc, struct rte_cfgfile *cfg)
{
	struct rte_cfgfile_entry *e;
	int n, rc = 0;

	if (!rte_cfgfile_has_section(cfg, "expect_tcp"))
		return 0;
	if (!sc->tcp.enabled) {
		fprintf(stderr, "%s: [expect_tcp] needs [tcp]\n", sc->path);
		return -EINVAL;
	}
	n = rte_cfgfile_section_num_entries(cfg, "expect_tcp");
	if (n <= 0)
		return 0;
	e = calloc(n, sizeof(*e));
	sc->tcp_checks = calloc(n, sizeof(*sc->tcp_checks));
	if (e == NULL || sc->tcp_checks == NULL) {
		free(e);
		return -ENOMEM;
	}
	n = rte_cfgfile_section_entries(cfg, "expect_tcp", e, n);
	for (int i = 0; i < n && rc == 0; i++) {
		if (strcmp(e[i].name, "tcp_frames") == 0) {
			if (parse_u64(e[i].value, UINT32_MAX, &sc->tcp_frames) != 0)
				rc = bad_key(sc, "expect_tcp", e[i].name,
					     e[i].value, "expected a count");
			sc->has_tcp_frames = true;
			continue;
		}
		rc = parse_tcp_frame_line(sc, &e[i],
					  &sc->tcp_checks[sc->nb_tcp_checks]);
		if (rc == 0)
			sc->nb_tcp_checks++;
	}
	free(e);
	return rc;
}

/* Returns 0 or -EINVAL after printing why. */
int
scenario_load(struct scenario *sc, const char *path)
{
	struct rte_cfgfile *cfg;
	int rc;

	sc->path = path;
	cfg = rte_cfgfile_load(path, 0);
	if (cfg == NULL) {
		fprintf(stderr, "%s: cannot read or parse the scenario file\n",
			path);
		return -EINVAL;
	}
	rc = check_layout(sc, cfg);
	if (rc == 0)
		rc = parse_engine(sc, cfg);
	if (rc == 0)
		rc = parse_io(sc, cfg);
	if (rc == 0)
		rc = parse_counters(sc, cfg);
	if (rc == 0)
		rc = parse_tcp(sc, cfg);
	if (rc == 0)
		rc = parse_expect_tcp(sc, cfg);
	rte_cfgfile_close(cfg);
	return rc;
}


