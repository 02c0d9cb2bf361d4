/*
 * Proves that every wskdp-gen option accepts its good values and refuses a
 * bad one with the exact message naming the option and what it accepts;
 * that each value type parses as documented (suffixes, ranges, address and
 * port ranges, choices, yes/no, paths); that a profile file and the same
 * options on the command line give identical structs; that unknown
 * sections and keys, options in the wrong section, repeated keys and bad
 * file values are refused with messages naming file, section and option;
 * and that validation refuses every cross-option conflict and resolves the
 * mode-dependent choices.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>
#include <rte_config.h>

#include "test_eal.h"
#include "gen_profile.h"

static struct gen_config cfg;
static char err[512];
static char tmp_path[64];

static void
setup(void)
{
	int fd;

	gen_config_defaults(&cfg);
	err[0] = '\0';
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_gen_profile.XXXXXX");
	fd = mkstemp(tmp_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void
teardown(void)
{
	unlink(tmp_path);
}

static void
write_profile(const char *text)
{
	FILE *f = fopen(tmp_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
set_ok(const char *name, const char *value)
{
	int rc = gen_config_set(&cfg, name, value, err, sizeof(err));

	ck_assert_msg(rc == 0, "--%s %s refused: %s", name, value ? value : "(none)", err);
}

/* Refused with exactly 'message', and cfg left as it was. */
static void
set_bad(const char *name, const char *value, const char *message)
{
	struct gen_config before = cfg;

	ck_assert_int_eq(gen_config_set(&cfg, name, value, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, message);
	ck_assert(memcmp(&before, &cfg, sizeof(cfg)) == 0);
}

START_TEST(test_profile_defaults_are_the_documented_ones)
{
	ck_assert_int_eq(cfg.mode, GEN_MODE_EMBEDDED);
	ck_assert_uint_eq(cfg.duration_ms, 0);
	ck_assert_uint_eq(cfg.shards, 1);
	ck_assert(!cfg.tfo && !cfg.quiet);
	ck_assert_str_eq(cfg.json_path, "");
	ck_assert_uint_eq(cfg.client.local_addrs.n, 0);
	ck_assert_uint_eq(cfg.client.local_ports.first, 1024);
	ck_assert_uint_eq(cfg.client.local_ports.last, 65535);
	ck_assert_uint_eq(cfg.client.servers.n, 0);
	ck_assert_uint_eq(cfg.client.server_ports.first, 8080);
	ck_assert_uint_eq(cfg.client.server_ports.last, 8080);
	ck_assert_uint_eq(cfg.client.rate_cps, 0);
	ck_assert_uint_eq(cfg.client.concurrency, 64);
	ck_assert_uint_eq(cfg.client.connections, 0);
	ck_assert_uint_eq(cfg.client.request_size, 100);
	ck_assert_uint_eq(cfg.client.response_size, 100);
	ck_assert(!cfg.client.until_close && !cfg.client.bulk);
	ck_assert_int_eq(cfg.client.close, GEN_CLOSE_GRACEFUL);
	ck_assert_uint_eq(cfg.client.requests_per_connection, 1);
	ck_assert_uint_eq(cfg.server.listen_ports.first, 8080);
	ck_assert_uint_eq(cfg.server.reply_size, 100);
	ck_assert(!cfg.server.close_first);
	ck_assert_uint_eq(cfg.given, 0);
}
END_TEST

struct option_case {
	const char *name;
	const char *good;
	const char *bad;
	const char *message;
};

#define NUM(n, lo, hi) "--" n ": '%s' is not a number between " lo " and " hi
#define SIZE_MSG(n) "--" n ": '%s' is not a size between 0 and 1G (bytes, or with a K, M or G suffix)"
#define BOOL_MSG(n) "--" n ": '%s' is not yes, no, true, false, on, off, 1 or 0"
#define PATH_MSG(n) "--" n ": '%s' is not a path of 1 to 255 characters"
#define ADDR_MSG(n) "--" n ": '%s' is not a list of up to 8 IPv4 addresses, ranges (A-B) or prefixes (A/N)"
#define PORT_MSG(n) "--" n ": '%s' is not a port or a range of ports (A-B) between 1 and 65535"
#define STR2(x) #x
#define STR(x) STR2(x)

/* One row per option of the table: the usage test below checks that no
 * option is missing. */
static const struct option_case option_cases[] = {
	{ "mode", "server", "bogus", "--mode: '%s' is not one of embedded, client, server" },
	{ "duration", "90s", "5x", "--duration: '%s' is not a duration between 0s and 8760h (with ms, s, m or h; seconds if none)" },
	{ "shards", "4", "0", NUM("shards", "1", STR(RTE_MAX_LCORE)) },
	{ "tfo", "yes", "maybe", BOOL_MSG("tfo") },
	{ "quiet", "on", "2", BOOL_MSG("quiet") },
	{ "verify-checksums", "yes", "sometimes", BOOL_MSG("verify-checksums") },
	{ "zero-copy", "no", "perhaps", BOOL_MSG("zero-copy") },
	{ "min-rto", "200ms", "61s", "--min-rto: '%s' is not a duration between 1ms and 1m (with ms, s, m or h; seconds if none)" },
	{ "json", "out.json", "", PATH_MSG("json") },
	{ "csv", "-", "", PATH_MSG("csv") },
	{ "capture", "run.pcap", "", PATH_MSG("capture") },
	{ "time-wait", "500ms", "5m", "--time-wait: '%s' is not a duration between 0s and 4m (with ms, s, m or h; seconds if none)" },
	{ "max-conns", "4194304", "63", NUM("max-conns", "64", "4194304") },
	{ "ip", "10.0.0.1/24,10.0.1.1", "10.0.0.1/33", "--ip: '%s' is not a list of up to 64 IPv4 addresses with an optional /prefix (0..32)" },
	{ "gateway", "10.0.0.254", "0.0.0.0", "--gateway: '%s' is not an IPv4 address" },
	{ "mtu", "9000", "575", NUM("mtu", "576", "65535") },
	{ "vlan", "4094", "0", NUM("vlan", "1", "4094") },
	{ "mac", "02:00:00:00:00:01", "01:00:5e:00:00:01", "--mac: '%s' is not a unicast MAC address (xx:xx:xx:xx:xx:xx)" },
	{ "port", "3", "99999", NUM("port", "0", "65535") },
	{ "local-addrs", "10.0.1.0/24", "10.0.0.300", ADDR_MSG("local-addrs") },
	{ "local-ports", "2000-2999", "0-10", PORT_MSG("local-ports") },
	{ "servers", "10.0.0.1-10.0.0.4", "10.0.0.5-10.0.0.1", ADDR_MSG("servers") },
	{ "server-ports", "80", "65536", PORT_MSG("server-ports") },
	{ "rate", "5000", "0", NUM("rate", "1", "10000000") },
	{ "concurrency", "10000000", "10000001", NUM("concurrency", "1", "10000000") },
	{ "connections", "1000000000000", "abc", NUM("connections", "1", "1000000000000") },
	{ "request-size", "1G", "2G", SIZE_MSG("request-size") },
	{ "request-file", "req.bin", "", PATH_MSG("request-file") },
	{ "response-size", "0", "1T", SIZE_MSG("response-size") },
	{ "until-close", "true", "nope", BOOL_MSG("until-close") },
	{ "close", "abortive", "rst", "--close: '%s' is not one of graceful, abortive" },
	{ "requests-per-connection", "1000000000", "0", NUM("requests-per-connection", "1", "1000000000") },
	{ "bulk", "1", "x", BOOL_MSG("bulk") },
	{ "listen-ports", "80-89", "80-79", PORT_MSG("listen-ports") },
	{ "request-bytes", "1K", "0", "--request-bytes: '%s' is not a size between 1 and 1G (bytes, or with a K, M or G suffix)" },
	{ "reply-size", "64K", "-5", SIZE_MSG("reply-size") },
	{ "reply-file", "index.html", "", PATH_MSG("reply-file") },
	{ "close-first", "off", "y", BOOL_MSG("close-first") },
};

#define OPTION_CASES (sizeof(option_cases) / sizeof(option_cases[0]))

START_TEST(test_profile_option_accepts_good_and_names_range_for_bad)
{
	const struct option_case *c = &option_cases[_i];
	char want[300];

	set_ok(c->name, c->good);
	ck_assert(gen_config_given(&cfg, c->name));
	snprintf(want, sizeof(want), c->message, c->bad);
	set_bad(c->name, c->bad, want);
}
END_TEST

START_TEST(test_profile_usage_lists_exactly_the_tested_options)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, listed = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	gen_config_usage(f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		bool found = false;

		if (sscanf(line, "  --%63[a-z-]", name) != 1 ||
		    strcmp(name, "profile") == 0 || strcmp(name, "help") == 0)
			continue;
		for (size_t i = 0; i < OPTION_CASES; i++)
			found = found || strcmp(option_cases[i].name, name) == 0;
		ck_assert_msg(found, "--%s has no test case", name);
		listed++;
	}
	ck_assert_uint_eq(listed, OPTION_CASES);
	free(text);
}
END_TEST

START_TEST(test_profile_unknown_option_is_refused)
{
	set_bad("bogus", "1", "unknown option '--bogus'");
	ck_assert(!gen_config_given(&cfg, "bogus"));
}
END_TEST

START_TEST(test_profile_option_without_value_needs_one_unless_yes_no)
{
	set_bad("rate", NULL, "--rate needs a value");
	set_bad("json", NULL, "--json needs a value");
	set_ok("tfo", NULL);
	ck_assert(cfg.tfo);
}
END_TEST

START_TEST(test_profile_numbers_are_plain_decimal)
{
	set_ok("rate", "007");
	ck_assert_uint_eq(cfg.client.rate_cps, 7);
	set_bad("rate", " 5", "--rate: ' 5' is not a number between 1 and 10000000");
	set_bad("rate", "+5", "--rate: '+5' is not a number between 1 and 10000000");
	set_bad("rate", "0x10", "--rate: '0x10' is not a number between 1 and 10000000");
	set_bad("rate", "5 ", "--rate: '5 ' is not a number between 1 and 10000000");
	set_bad("connections", "18446744073709551616",
		"--connections: '18446744073709551616' is not a number between 1 and 1000000000000");
}
END_TEST

START_TEST(test_profile_sizes_take_binary_suffixes)
{
	set_ok("request-size", "4K");
	ck_assert_uint_eq(cfg.client.request_size, 4096);
	set_ok("request-size", "4k");
	ck_assert_uint_eq(cfg.client.request_size, 4096);
	set_ok("request-size", "2M");
	ck_assert_uint_eq(cfg.client.request_size, 2 * 1024 * 1024);
	set_ok("request-size", "1G");
	ck_assert_uint_eq(cfg.client.request_size, 1024 * 1024 * 1024);
	set_ok("request-size", "1073741824");
	ck_assert_uint_eq(cfg.client.request_size, 1024 * 1024 * 1024);
	set_bad("request-size", "1073741825", "--request-size: '1073741825' is not a size between 0 and 1G (bytes, or with a K, M or G suffix)");
	set_bad("request-size", "1KB", "--request-size: '1KB' is not a size between 0 and 1G (bytes, or with a K, M or G suffix)");
	set_bad("request-size", "K", "--request-size: 'K' is not a size between 0 and 1G (bytes, or with a K, M or G suffix)");
	set_bad("request-size", "99999999999999999999G", "--request-size: '99999999999999999999G' is not a size between 0 and 1G (bytes, or with a K, M or G suffix)");
}
END_TEST

START_TEST(test_profile_durations_take_units_and_default_to_seconds)
{
	static const char *const msg = "--duration: '%s' is not a duration between 0s and 8760h (with ms, s, m or h; seconds if none)";
	char want[200];

	set_ok("duration", "10");
	ck_assert_uint_eq(cfg.duration_ms, 10000);
	set_ok("duration", "10s");
	ck_assert_uint_eq(cfg.duration_ms, 10000);
	set_ok("duration", "250ms");
	ck_assert_uint_eq(cfg.duration_ms, 250);
	set_ok("duration", "2m");
	ck_assert_uint_eq(cfg.duration_ms, 120000);
	set_ok("duration", "8760h");
	ck_assert_uint_eq(cfg.duration_ms, UINT64_C(31536000000));
	set_ok("duration", "0");
	ck_assert_uint_eq(cfg.duration_ms, 0);
	snprintf(want, sizeof(want), msg, "8761h");
	set_bad("duration", "8761h", want);
	snprintf(want, sizeof(want), msg, "1.5s");
	set_bad("duration", "1.5s", want);
	snprintf(want, sizeof(want), msg, "-1");
	set_bad("duration", "-1", want);
	snprintf(want, sizeof(want), msg, "5 s");
	set_bad("duration", "5 s", want);
}
END_TEST

START_TEST(test_profile_addresses_take_ranges_prefixes_and_lists)
{
	static const char *const msg = "--servers: '%s' is not a list of up to 8 IPv4 addresses, ranges (A-B) or prefixes (A/N)";
	static const char *const bad[] = {
		"10.0.0.1/24", "0.0.0.0", "10.0.0.1,", ",10.0.0.1", "10.0.0.0/33",
		"10.0.0.0/", "10.0.0.1-", "10.0.0", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9",
		"10.0.0.1 ", "",
	};
	char want[300];

	set_ok("servers", "10.0.0.7");
	ck_assert_uint_eq(cfg.client.servers.n, 1);
	ck_assert_uint_eq(cfg.client.servers.r[0].first, 0x0A000007);
	ck_assert_uint_eq(cfg.client.servers.r[0].last, 0x0A000007);
	set_ok("servers", "10.0.0.1-10.0.0.50");
	ck_assert_uint_eq(gen_addr_ranges_count(&cfg.client.servers), 50);
	set_ok("servers", "10.0.0.0/24");
	ck_assert_uint_eq(cfg.client.servers.r[0].first, 0x0A000001);
	ck_assert_uint_eq(cfg.client.servers.r[0].last, 0x0A0000FE);
	set_ok("servers", "10.0.0.0/31");
	ck_assert_uint_eq(gen_addr_ranges_count(&cfg.client.servers), 2);
	set_ok("servers", "10.0.0.9/32");
	ck_assert_uint_eq(gen_addr_ranges_count(&cfg.client.servers), 1);
	set_ok("servers", "10.0.0.1,10.0.1.0/30,10.0.2.1-10.0.2.3");
	ck_assert_uint_eq(cfg.client.servers.n, 3);
	ck_assert_uint_eq(gen_addr_ranges_count(&cfg.client.servers), 1 + 2 + 3);
	set_ok("servers", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8");
	ck_assert_uint_eq(cfg.client.servers.n, 8);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), msg, bad[i]);
		set_bad("servers", bad[i], want);
	}
}
END_TEST

START_TEST(test_profile_ports_take_one_port_or_a_range)
{
	static const char *const msg = "--local-ports: '%s' is not a port or a range of ports (A-B) between 1 and 65535";
	static const char *const bad[] = { "0", "65536", "80-", "-80", "100-99", "1-65536", "8o", "" };
	char want[200];

	set_ok("local-ports", "80");
	ck_assert_uint_eq(cfg.client.local_ports.first, 80);
	ck_assert_uint_eq(cfg.client.local_ports.last, 80);
	set_ok("local-ports", "1-65535");
	ck_assert_uint_eq(cfg.client.local_ports.first, 1);
	ck_assert_uint_eq(cfg.client.local_ports.last, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), msg, bad[i]);
		set_bad("local-ports", bad[i], want);
	}
}
END_TEST

START_TEST(test_profile_yes_no_takes_every_spelling)
{
	static const char *const yes[] = { "yes", "YES", "true", "on", "1" };
	static const char *const no[] = { "no", "False", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cfg.tfo = false;
		set_ok("tfo", yes[i]);
		ck_assert(cfg.tfo);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cfg.tfo = true;
		set_ok("tfo", no[i]);
		ck_assert(!cfg.tfo);
	}
}
END_TEST

START_TEST(test_profile_paths_hold_up_to_255_characters)
{
	char path[258], want[400];

	memset(path, 'p', 255);
	path[255] = '\0';
	set_ok("json", path);
	ck_assert_str_eq(cfg.json_path, path);
	path[255] = 'p';
	path[256] = '\0';
	snprintf(want, sizeof(want), "--json: '%s' is not a path of 1 to 255 characters", path);
	set_bad("json", path, want);
}
END_TEST

START_TEST(test_profile_choices_are_stored_as_their_enum)
{
	set_ok("mode", "client");
	ck_assert_int_eq(cfg.mode, GEN_MODE_CLIENT);
	set_ok("mode", "embedded");
	ck_assert_int_eq(cfg.mode, GEN_MODE_EMBEDDED);
	set_ok("close", "abortive");
	ck_assert_int_eq(cfg.client.close, GEN_CLOSE_ABORTIVE);
	set_bad("mode", "Client", "--mode: 'Client' is not one of embedded, client, server");
}
END_TEST

/* Every option with a non-default value, in both forms. */
static const char every_option_profile[] =
	"# a comment line\n"
	"[common]\n"
	"mode = client\n"
	"duration = 90s\n"
	"shards = 4\n"
	"tfo = yes\n"
	"quiet = yes\n"
	"json = out.json\n"
	"csv = out.csv\n"
	"capture = run.pcap  # a comment after the value\n"
	"[client]\n"
	"local-addrs = 10.0.1.0/24,10.0.3.1\n"
	"local-ports = 2000-2999\n"
	"servers = 10.0.0.1-10.0.0.4\n"
	"server-ports = 80-81\n"
	"rate = 5000\n"
	"concurrency = 77\n"
	"connections = 12345\n"
	"request-size = 4K\n"
	"request-file = req.bin\n"
	"response-size = 1M\n"
	"until-close = yes\n"
	"close = abortive\n"
	"requests-per-connection = 10\n"
	"bulk = yes\n"
	"[server]\n"
	"listen-ports = 80-89\n"
	"reply-size = 64K\n"
	"reply-file = index.html\n"
	"close-first = yes\n";

static char *every_option_args[] = {
	"--", "--mode", "client", "--duration=90s", "--shards", "4", "--tfo",
	"--quiet=yes", "--json", "out.json", "--csv", "out.csv", "--capture",
	"run.pcap", "--local-addrs", "10.0.1.0/24,10.0.3.1", "--local-ports",
	"2000-2999", "--servers", "10.0.0.1-10.0.0.4", "--server-ports", "80-81",
	"--rate", "5000", "--concurrency", "77", "--connections", "12345",
	"--request-size", "4K", "--request-file", "req.bin", "--response-size",
	"1M", "--until-close", "--close", "abortive",
	"--requests-per-connection", "10", "--bulk", "--listen-ports", "80-89",
	"--reply-size", "64K", "--reply-file", "index.html", "--close-first",
};

START_TEST(test_profile_file_and_command_line_give_identical_structs)
{
	struct gen_config from_args;
	int argc = (int)(sizeof(every_option_args) / sizeof(every_option_args[0]));

	write_profile(every_option_profile);
	ck_assert_msg(gen_config_load_file(&cfg, tmp_path, err, sizeof(err)) == 0, "%s", err);
	gen_config_defaults(&from_args);
	ck_assert_msg(gen_config_parse_args(&from_args, argc, every_option_args,
					    err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.capture_path, "run.pcap");
	ck_assert_uint_eq(cfg.client.local_addrs.n, 2);
	ck_assert_uint_eq(cfg.given, from_args.given);
	ck_assert(memcmp(&cfg, &from_args, sizeof(cfg)) == 0);
}
END_TEST

static void
load_bad(const char *text, int rc, const char *message_after_path)
{
	char want[400];

	write_profile(text);
	ck_assert_int_eq(gen_config_load_file(&cfg, tmp_path, err, sizeof(err)), rc);
	snprintf(want, sizeof(want), "%s%s%s", tmp_path,
		 isdigit((unsigned char)message_after_path[0]) ? ":" : ": ",
		 message_after_path);
	ck_assert_str_eq(err, want);
}

START_TEST(test_profile_file_unknown_section_is_refused)
{
	load_bad("[clients]\nrate = 5\n", -EINVAL,
		 "[clients]: unknown section (the sections are [common], [client] and [server])");
}
END_TEST

START_TEST(test_profile_file_unknown_key_is_refused)
{
	load_bad("[client]\nrat = 5\n", -EINVAL, "[client] rat: unknown option");
}
END_TEST

START_TEST(test_profile_file_option_in_wrong_section_is_refused)
{
	load_bad("[server]\nrate = 5\n", -EINVAL, "[server] rate: belongs in [client]");
}
END_TEST

START_TEST(test_profile_file_option_outside_sections_is_refused)
{
	load_bad("rate = 5\n[client]\n", -EINVAL,
		 "rate: outside any section (the sections are [common], [client] and [server])");
}
END_TEST

START_TEST(test_profile_file_option_given_twice_is_refused)
{
	load_bad("[client]\nrate = 5\n[client]\nrate = 6\n", -EINVAL,
		 "[client] rate: given twice");
}
END_TEST

START_TEST(test_profile_file_bad_value_names_section_option_and_range)
{
	load_bad("[client]\nrate = 0\n", -EINVAL,
		 "[client] rate: '0' is not a number between 1 and 10000000");
	load_bad("[common]\njson =\n", -EINVAL,
		 "[common] json: '' is not a path of 1 to 255 characters");
}
END_TEST

START_TEST(test_profile_file_line_without_equals_is_refused)
{
	load_bad("[client]\n\n  # fine\nrate 5\n", -EINVAL,
		 "4: 'rate 5' is neither a [section] nor a name = value line");
	load_bad("[client\nrate = 5\n", -EINVAL,
		 "1: '[client' is neither a [section] nor a name = value line");
	load_bad("[client]\n= 5\n", -EINVAL,
		 "2: '= 5' is neither a [section] nor a name = value line");
}
END_TEST

START_TEST(test_profile_missing_file_is_refused)
{
	char want[200];

	snprintf(want, sizeof(want), "%s.missing: No such file or directory", tmp_path);
	strcat(tmp_path, ".missing");
	ck_assert_int_eq(gen_config_load_file(&cfg, tmp_path, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, want);
	tmp_path[strlen(tmp_path) - strlen(".missing")] = '\0';
}
END_TEST

/* parse_args on a NULL-terminated list (argv[0] is supplied). */
static int
parse(const char *const *args)
{
	char *argv[32] = { "--" };
	int argc = 1;

	while (*args != NULL)
		argv[argc++] = (char *)*args++;
	return gen_config_parse_args(&cfg, argc, argv, err, sizeof(err));
}

START_TEST(test_profile_args_later_options_override_the_profile)
{
	const char *args[] = { "--profile", tmp_path, "--rate", "9", NULL };

	write_profile("[client]\nrate = 5\nconcurrency = 3\n");
	ck_assert_msg(parse(args) == 0, "%s", err);
	ck_assert_uint_eq(cfg.client.rate_cps, 9);
	ck_assert_uint_eq(cfg.client.concurrency, 3);
}
END_TEST

START_TEST(test_profile_args_refuse_strays_and_missing_values)
{
	const char *stray[] = { "--tfo", "yes", NULL };
	const char *missing[] = { "--servers", "10.0.0.1", "--rate", NULL };
	const char *negative[] = { "--duration", "-1", NULL };
	const char *unknown[] = { "--bogus", NULL };
	const char *no_profile[] = { "--profile", NULL };

	ck_assert_int_eq(parse(stray), -EINVAL);
	ck_assert_str_eq(err, "unexpected argument 'yes'");
	ck_assert_int_eq(parse(missing), -EINVAL);
	ck_assert_str_eq(err, "--rate needs a value");
	ck_assert_int_eq(parse(negative), -EINVAL);
	ck_assert_str_eq(err, "--duration: '-1' is not a duration between 0s and 8760h (with ms, s, m or h; seconds if none)");
	ck_assert_int_eq(parse(unknown), -EINVAL);
	ck_assert_str_eq(err, "unknown option '--bogus'");
	ck_assert_int_eq(parse(no_profile), -EINVAL);
	ck_assert_str_eq(err, "--profile needs a value");
}
END_TEST

START_TEST(test_profile_args_help_stops_parsing)
{
	const char *args[] = { "--rate", "5", "--help", "--bogus", NULL };

	ck_assert_int_eq(parse(args), 1);
}
END_TEST

/* Parse then validate; returns validate's status. */
static int
validate(const char *const *args)
{
	int rc = parse(args);

	ck_assert_msg(rc == 0, "parse: %s", err);
	return gen_config_validate(&cfg, err, sizeof(err));
}

static void
validate_bad(const char *const *args, const char *message)
{
	ck_assert_int_eq(validate(args), -EINVAL);
	ck_assert_str_eq(err, message);
}

START_TEST(test_profile_validate_refuses_conflicting_options)
{
	const char *both_load[] = { "--rate", "5", "--concurrency", "5", NULL };
	const char *both_stop[] = { "--duration", "5", "--connections", "5", NULL };
	const char *request[] = { "--request-size", "5", "--request-file", "f", NULL };
	const char *response[] = { "--response-size", "5", "--until-close", NULL };
	const char *reply[] = { "--reply-size", "5", "--reply-file", "f", NULL };

	validate_bad(both_load, "--rate and --concurrency: give one, not both");
	gen_config_defaults(&cfg);
	validate_bad(both_stop, "--duration and --connections: give one, not both");
	gen_config_defaults(&cfg);
	validate_bad(request, "--request-size and --request-file: give one, not both");
	gen_config_defaults(&cfg);
	validate_bad(response, "--response-size and --until-close: give one, not both");
	gen_config_defaults(&cfg);
	validate_bad(reply, "--reply-size and --reply-file: give one, not both");
}
END_TEST

START_TEST(test_profile_validate_refuses_options_of_the_other_mode)
{
	const char *server_with_rate[] = { "--mode", "server", "--rate", "5", NULL };
	const char *client_with_reply[] = { "--mode", "client", "--servers", "10.0.0.1",
					     "--close-first", NULL };

	validate_bad(server_with_rate, "--rate is a client option: it does not apply to --mode server");
	gen_config_defaults(&cfg);
	validate_bad(client_with_reply, "--close-first is a server option: it does not apply to --mode client");
}
END_TEST

START_TEST(test_profile_validate_client_needs_servers)
{
	const char *args[] = { "--mode", "client", NULL };

	validate_bad(args, "--mode client needs --servers");
}
END_TEST

/* Above 9000 only the in-memory link: a NIC would drop such frames. */
START_TEST(test_profile_validate_big_mtu_only_embedded)
{
	const char *client[] = { "--mode", "client", "--servers", "10.0.0.2",
				 "--mtu", "9001", NULL };
	const char *embedded[] = { "--mtu", "65535", NULL };

	validate_bad(client, "--mtu 9001: a port takes 576..9000 (up to 65535 only on the embedded run's in-memory link)");
	gen_config_defaults(&cfg);
	ck_assert_int_eq(validate(embedded), 0);
	ck_assert_uint_eq(cfg.mtu, 65535);
}
END_TEST

START_TEST(test_profile_validate_bulk_refuses_per_connection_options)
{
	const char *rate[] = { "--bulk", "--rate", "5", NULL };
	const char *conns[] = { "--bulk", "--connections", "5", NULL };
	const char *keepalive[] = { "--bulk", "--requests-per-connection", "5", NULL };

	validate_bad(rate, "--bulk streams on --concurrency connections: --rate does not apply");
	gen_config_defaults(&cfg);
	validate_bad(conns, "--bulk runs for a --duration: --connections does not apply");
	gen_config_defaults(&cfg);
	validate_bad(keepalive, "--bulk streams without requests: --requests-per-connection does not apply");
}
END_TEST

START_TEST(test_profile_validate_embedded_sizes_must_agree)
{
	const char *sizes[] = { "--response-size", "10", "--reply-size", "20", NULL };
	const char *until[] = { "--until-close", "--close-first=no", NULL };

	validate_bad(sizes, "--response-size (10) must equal --reply-size (20) in embedded mode");
	gen_config_defaults(&cfg);
	validate_bad(until, "--until-close needs the embedded server to close first: drop --close-first=no");
}
END_TEST

START_TEST(test_profile_validate_concurrency_needs_enough_pairs)
{
	const char *eleven[] = { "--mode", "client", "--servers", "10.0.0.1",
				 "--server-ports", "80", "--local-addrs", "10.0.1.1-10.0.1.2",
				 "--local-ports", "1000-1004", "--concurrency", "11", NULL };
	const char *ten[] = { "--concurrency", "10", NULL };

	validate_bad(eleven, "--concurrency 11 needs more connections than the 10 distinct address and port pairs of --local-addrs, --local-ports, --servers and --server-ports");
	ck_assert_int_eq(validate(ten), 0);
}
END_TEST

START_TEST(test_profile_validate_resolves_embedded_defaults)
{
	const char *none[] = { NULL };
	const char *until[] = { "--response-size", "500", "--until-close=no", NULL };

	ck_assert_int_eq(validate(none), 0);
	ck_assert_int_eq(cfg.load, GEN_LOAD_CONCURRENCY);
	ck_assert_int_eq(cfg.stop, GEN_STOP_DURATION);
	ck_assert_uint_eq(cfg.duration_ms, GEN_EMBEDDED_DURATION_MS);
	ck_assert_uint_eq(cfg.server.reply_size, cfg.client.response_size);

	gen_config_defaults(&cfg);
	ck_assert_int_eq(validate(until), 0);
	ck_assert_uint_eq(cfg.server.reply_size, 500);
	ck_assert(!cfg.server.close_first);
}
END_TEST

START_TEST(test_profile_validate_resolves_rate_and_connections)
{
	const char *args[] = { "--mode", "client", "--servers", "10.0.0.1", "--rate", "100",
			       "--connections", "1000", NULL };

	ck_assert_msg(validate(args) == 0, "%s", err);
	ck_assert_int_eq(cfg.load, GEN_LOAD_RATE);
	ck_assert_int_eq(cfg.stop, GEN_STOP_CONNECTIONS);
	ck_assert_uint_eq(cfg.duration_ms, 0);
}
END_TEST

START_TEST(test_profile_validate_until_close_makes_embedded_server_close)
{
	const char *args[] = { "--until-close", NULL };

	ck_assert_int_eq(validate(args), 0);
	ck_assert(cfg.server.close_first);
}
END_TEST

START_TEST(test_profile_validate_server_mode_takes_common_options)
{
	const char *args[] = { "--mode", "server", "--tfo", "--duration", "1m",
			       "--listen-ports", "80", "--json", "-", NULL };

	ck_assert_msg(validate(args) == 0, "%s", err);
	ck_assert_uint_eq(cfg.duration_ms, 60000);
}
END_TEST

static Suite *
gen_profile_suite(void)
{
	Suite *s = suite_create("gen_profile");
	TCase *tc = tcase_create("options");
	TCase *file = tcase_create("file");
	TCase *val = tcase_create("validate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_profile_defaults_are_the_documented_ones);
	tcase_add_loop_test(tc, test_profile_option_accepts_good_and_names_range_for_bad, 0, OPTION_CASES);
	tcase_add_test(tc, test_profile_usage_lists_exactly_the_tested_options);
	tcase_add_test(tc, test_profile_unknown_option_is_refused);
	tcase_add_test(tc, test_profile_option_without_value_needs_one_unless_yes_no);
	tcase_add_test(tc, test_profile_numbers_are_plain_decimal);
	tcase_add_test(tc, test_profile_sizes_take_binary_suffixes);
	tcase_add_test(tc, test_profile_durations_take_units_and_default_to_seconds);
	tcase_add_test(tc, test_profile_addresses_take_ranges_prefixes_and_lists);
	tcase_add_test(tc, test_profile_ports_take_one_port_or_a_range);
	tcase_add_test(tc, test_profile_yes_no_takes_every_spelling);
	tcase_add_test(tc, test_profile_paths_hold_up_to_255_characters);
	tcase_add_test(tc, test_profile_choices_are_stored_as_their_enum);
	tcase_add_test(tc, test_profile_args_later_options_override_the_profile);
	tcase_add_test(tc, test_profile_args_refuse_strays_and_missing_values);
	tcase_add_test(tc, test_profile_args_help_stops_parsing);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(file, setup, teardown);
	tcase_add_test(file, test_profile_file_and_command_line_give_identical_structs);
	tcase_add_test(file, test_profile_file_unknown_section_is_refused);
	tcase_add_test(file, test_profile_file_unknown_key_is_refused);
	tcase_add_test(file, test_profile_file_option_in_wrong_section_is_refused);
	tcase_add_test(file, test_profile_file_option_outside_sections_is_refused);
	tcase_add_test(file, test_profile_file_option_given_twice_is_refused);
	tcase_add_test(file, test_profile_file_bad_value_names_section_option_and_range);
	tcase_add_test(file, test_profile_file_line_without_equals_is_refused);
	tcase_add_test(file, test_profile_missing_file_is_refused);
	suite_add_tcase(s, file);

	tcase_add_checked_fixture(val, setup, teardown);
	tcase_add_test(val, test_profile_validate_refuses_conflicting_options);
	tcase_add_test(val, test_profile_validate_refuses_options_of_the_other_mode);
	tcase_add_test(val, test_profile_validate_client_needs_servers);
	tcase_add_test(val, test_profile_validate_big_mtu_only_embedded);
	tcase_add_test(val, test_profile_validate_bulk_refuses_per_connection_options);
	tcase_add_test(val, test_profile_validate_embedded_sizes_must_agree);
	tcase_add_test(val, test_profile_validate_concurrency_needs_enough_pairs);
	tcase_add_test(val, test_profile_validate_resolves_embedded_defaults);
	tcase_add_test(val, test_profile_validate_resolves_rate_and_connections);
	tcase_add_test(val, test_profile_validate_until_close_makes_embedded_server_close);
	tcase_add_test(val, test_profile_validate_server_mode_takes_common_options);
	suite_add_tcase(s, val);
	return s;
}

int
main(void)
{
	return test_run_suite(gen_profile_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
