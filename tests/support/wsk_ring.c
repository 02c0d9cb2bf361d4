#include <check.h>

#include "wsk_ring.h"

struct wsk_client *wc;
struct wsk_cq *cq;

void
wsk_client_start(unsigned max_sockets, unsigned max_requests,
		 unsigned cq_entries)
{
	wc = wsk_client_create(cs, max_sockets, max_requests);
	ck_assert_ptr_nonnull(wc);
	cq = wsk_cq_create("wsk_ring", cq_entries, 0, SOCKET_ID_ANY);
	ck_assert_ptr_nonnull(cq);
}

void
wsk_client_stop(void)
{
	/* The client goes first: its pending requests post to cq. */
	wsk_client_destroy(wc);
	wc = NULL;
	wsk_cq_free(cq);
	cq = NULL;
}

struct wsk_request
rq(uint64_t user_data)
{
	return (struct wsk_request){ .cq = cq, .user_data = user_data };
}

struct wsk_completion
reap_one(void)
{
	ck_assert_uint_eq(wsk_cq_ready(cq), 1);
	return reap_first();
}

struct wsk_completion
reap_first(void)
{
	struct wsk_completion *e, copy;

	ck_assert_int_eq(wsk_cq_peek(cq, &e), 0);
	copy = *e;
	wsk_cq_seen(cq, e);
	return copy;
}

void
expect_nothing_posted(void)
{
	ck_assert_uint_eq(wsk_cq_ready(cq), 0);
}

void
step_engines(void)
{
	advance(1000);
}

void
step_wc(void)
{
	advance(1000);
	wsk_client_poll(wc);
}

void
wait_n_by(unsigned n, void (*pass)(void), unsigned max_passes)
{
	for (unsigned i = 0; i < max_passes && wsk_cq_ready(cq) < n; i++)
		pass();
	ck_assert_uint_eq(wsk_cq_ready(cq), n);
}

struct wsk_completion
wait_one_by(void (*pass)(void), unsigned max_passes)
{
	wait_n_by(1, pass, max_passes);
	return reap_one();
}

void
close_sock(WSK_SOCKET *so)
{
	struct wsk_request r = rq(99);

	ck_assert_int_eq(so->basic->close_socket(so, &r), STATUS_SUCCESS);
	ck_assert_uint_eq(reap_one().user_data, 99);
}

NTSTATUS
enable_events(WSK_SOCKET *so, uint32_t mask)
{
	struct wsk_event_callback_control ctl = { .event_mask = mask };

	return so->basic->control_socket(so, WskSetOption,
			WSK_SO_WSK_EVENT_CALLBACK, WSK_SOL_SOCKET, sizeof(ctl),
			&ctl, 0, NULL, NULL, NULL);
}
