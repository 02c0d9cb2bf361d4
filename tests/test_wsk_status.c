/*
 * Proves that every NTSTATUS code wskapi defines has the value and name
 * Windows gives it (checked against a table typed from WSK.md 1.6, not
 * generated from the header), that the severity macros classify codes as
 * ntdef.h does, including the STATUS_BUFFER_OVERFLOW trap, and that unknown
 * codes are named safely.
 */
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "test_eal.h"
#include "wsk_status.h"

struct expected_status {
	NTSTATUS code;		/* the header's macro */
	const char *name;	/* as typed from the documentation */
	uint32_t value;		/* as typed from the documentation */
};

#define ENTRY(code, value) { code, #code, value }

static const struct expected_status documented[] = {
	ENTRY(STATUS_SUCCESS, 0x00000000),
	ENTRY(STATUS_PENDING, 0x00000103),
	ENTRY(STATUS_EVENT_PENDING, 0x40000013),
	ENTRY(STATUS_BUFFER_OVERFLOW, 0x80000005),
	ENTRY(STATUS_INVALID_PARAMETER, 0xC000000D),
	ENTRY(STATUS_SHARING_VIOLATION, 0xC0000043),
	ENTRY(STATUS_INSUFFICIENT_RESOURCES, 0xC000009A),
	ENTRY(STATUS_IO_TIMEOUT, 0xC00000B5),
	ENTRY(STATUS_FILE_FORCED_CLOSED, 0xC00000B6),
	ENTRY(STATUS_NOT_SUPPORTED, 0xC00000BB),
	ENTRY(STATUS_REQUEST_NOT_ACCEPTED, 0xC00000D0),
	ENTRY(STATUS_CANCELLED, 0xC0000120),
	ENTRY(STATUS_INVALID_CONNECTION, 0xC0000140),
	ENTRY(STATUS_INVALID_ADDRESS, 0xC0000141),
	ENTRY(STATUS_INVALID_DEVICE_STATE, 0xC0000184),
	ENTRY(STATUS_INVALID_ADDRESS_COMPONENT, 0xC0000207),
	ENTRY(STATUS_ADDRESS_ALREADY_EXISTS, 0xC000020A),
	ENTRY(STATUS_CONNECTION_DISCONNECTED, 0xC000020C),
	ENTRY(STATUS_CONNECTION_RESET, 0xC000020D),
	ENTRY(STATUS_DATA_NOT_ACCEPTED, 0xC000021B),
	ENTRY(STATUS_CONNECTION_REFUSED, 0xC0000236),
	ENTRY(STATUS_GRACEFUL_DISCONNECT, 0xC0000237),
	ENTRY(STATUS_ADDRESS_ALREADY_ASSOCIATED, 0xC0000238),
	ENTRY(STATUS_ADDRESS_NOT_ASSOCIATED, 0xC0000239),
	ENTRY(STATUS_CONNECTION_INVALID, 0xC000023A),
	ENTRY(STATUS_CONNECTION_ACTIVE, 0xC000023B),
	ENTRY(STATUS_NETWORK_UNREACHABLE, 0xC000023C),
	ENTRY(STATUS_HOST_UNREACHABLE, 0xC000023D),
	ENTRY(STATUS_PORT_UNREACHABLE, 0xC000023F),
	ENTRY(STATUS_CONNECTION_ABORTED, 0xC0000241),
	/* Beyond WSK.md 1.6: cancel of an unknown request, and the bind
	 * outcome "DENIED" of WSK's "Sharing Transport Addresses". */
	ENTRY(STATUS_NOT_FOUND, 0xC0000225),
	ENTRY(STATUS_ACCESS_DENIED, 0xC0000022),
	/* wsk_deregister_memory with sends pending (ntstatus.h). */
	ENTRY(STATUS_DEVICE_BUSY, 0x80000011),
};

START_TEST(test_status_codes_have_documented_values)
{
	const struct expected_status *e = &documented[_i];

	ck_assert_msg((uint32_t)e->code == e->value,
		      "%s is 0x%08X, documented 0x%08X", e->name,
		      (unsigned)(uint32_t)e->code, (unsigned)e->value);
}
END_TEST

START_TEST(test_status_str_names_every_documented_code)
{
	const struct expected_status *e = &documented[_i];

	ck_assert_str_eq(wsk_status_str((NTSTATUS)e->value), e->name);
}
END_TEST

START_TEST(test_status_format_writes_name_of_documented_code)
{
	const struct expected_status *e = &documented[_i];
	char buf[64];
	int n = wsk_status_format((NTSTATUS)e->value, buf, sizeof(buf));

	ck_assert_str_eq(buf, e->name);
	ck_assert_int_eq(n, (int)strlen(e->name));
}
END_TEST

START_TEST(test_status_severity_of_documented_code_matches_top_bits)
{
	const struct expected_status *e = &documented[_i];
	unsigned severity = e->value >> 30;

	ck_assert_int_eq(NT_SUCCESS(e->code), severity <= 1);
	ck_assert_int_eq(NT_INFORMATION(e->code), severity == 1);
	ck_assert_int_eq(NT_WARNING(e->code), severity == 2);
	ck_assert_int_eq(NT_ERROR(e->code), severity == 3);
}
END_TEST

START_TEST(test_status_buffer_overflow_is_neither_success_nor_error)
{
	ck_assert(!NT_SUCCESS(STATUS_BUFFER_OVERFLOW));
	ck_assert(!NT_ERROR(STATUS_BUFFER_OVERFLOW));
	ck_assert(NT_WARNING(STATUS_BUFFER_OVERFLOW));
	ck_assert(!NT_INFORMATION(STATUS_BUFFER_OVERFLOW));
}
END_TEST

START_TEST(test_status_pending_and_event_pending_count_as_success)
{
	ck_assert(NT_SUCCESS(STATUS_SUCCESS));
	ck_assert(NT_SUCCESS(STATUS_PENDING));
	ck_assert(!NT_INFORMATION(STATUS_PENDING));
	ck_assert(NT_SUCCESS(STATUS_EVENT_PENDING));
	ck_assert(NT_INFORMATION(STATUS_EVENT_PENDING));
	ck_assert(!NT_SUCCESS(STATUS_INVALID_PARAMETER));
	ck_assert(NT_ERROR(STATUS_INVALID_PARAMETER));
}
END_TEST

START_TEST(test_status_codes_are_distinct)
{
	size_t n = sizeof(documented) / sizeof(documented[0]);
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ck_assert_msg(documented[i].value != documented[j].value,
				      "%s and %s share a value",
				      documented[i].name, documented[j].name);
}
END_TEST

START_TEST(test_status_str_of_unknown_code_is_status_unknown)
{
	ck_assert_str_eq(wsk_status_str((NTSTATUS)0xC0001234),
			 "STATUS_UNKNOWN");
	ck_assert_str_eq(wsk_status_str((NTSTATUS)0x00000001),
			 "STATUS_UNKNOWN");
	ck_assert_str_eq(wsk_status_str((NTSTATUS)0xFFFFFFFF),
			 "STATUS_UNKNOWN");
}
END_TEST

START_TEST(test_status_format_of_unknown_code_writes_hex)
{
	char buf[32];

	ck_assert_int_eq(wsk_status_format((NTSTATUS)0xC0001234, buf,
					   sizeof(buf)), 10);
	ck_assert_str_eq(buf, "0xC0001234");
	ck_assert_int_eq(wsk_status_format((NTSTATUS)0x00000001, buf,
					   sizeof(buf)), 10);
	ck_assert_str_eq(buf, "0x00000001");
}
END_TEST

START_TEST(test_status_format_truncates_and_reports_full_length)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(wsk_status_format(STATUS_PENDING, buf, sizeof(buf)),
			 (int)strlen("STATUS_PENDING"));
	ck_assert_str_eq(buf, "STATUS_");
	ck_assert_int_eq(wsk_status_format(STATUS_PENDING, NULL, 0),
			 (int)strlen("STATUS_PENDING"));
}
END_TEST

static Suite *
wsk_status_suite(void)
{
	Suite *s = suite_create("wsk_status");
	TCase *tc = tcase_create("core");
	int n = (int)(sizeof(documented) / sizeof(documented[0]));

	tcase_add_loop_test(tc, test_status_codes_have_documented_values, 0, n);
	tcase_add_loop_test(tc, test_status_str_names_every_documented_code,
			    0, n);
	tcase_add_loop_test(tc,
			    test_status_format_writes_name_of_documented_code,
			    0, n);
	tcase_add_loop_test(tc,
		test_status_severity_of_documented_code_matches_top_bits, 0, n);
	tcase_add_test(tc, test_status_buffer_overflow_is_neither_success_nor_error);
	tcase_add_test(tc, test_status_pending_and_event_pending_count_as_success);
	tcase_add_test(tc, test_status_codes_are_distinct);
	tcase_add_test(tc, test_status_str_of_unknown_code_is_status_unknown);
	tcase_add_test(tc, test_status_format_of_unknown_code_writes_hex);
	tcase_add_test(tc, test_status_format_truncates_and_reports_full_length);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(wsk_status_suite()) == 0 ? EXIT_SUCCESS
						       : EXIT_FAILURE;
}
