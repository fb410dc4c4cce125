// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>

#include "daemon/tls/tls_tickets.h"

/*
 * Real handshakes between two SSLs joined by memory BIOs: a server context
 * with the ticket callback and no session cache, as daemon/tls/tls_store.c
 * sets it up, and a plain client.
 */
struct fx {
	SSL_CTX *server;
	SSL_CTX *client;
};

static int make_identity(SSL_CTX *ctx)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int ok = key && x;

	if (ok) {
		ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 3600);
		X509_set_pubkey(x, key);
		X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					   (const unsigned char *)"t.example", -1, -1, 0);
		X509_set_issuer_name(x, X509_get_subject_name(x));
		ok = X509_sign(x, key, EVP_sha256()) > 0 && SSL_CTX_use_certificate(ctx, x) == 1 &&
		     SSL_CTX_use_PrivateKey(ctx, key) == 1;
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->server = SSL_CTX_new(TLS_server_method());
	f->client = SSL_CTX_new(TLS_client_method());
	if (!f->server || !f->client || make_identity(f->server) || pxd_tls_tickets_init(3600))
		return -1;
	SSL_CTX_set_session_cache_mode(f->server, SSL_SESS_CACHE_OFF);
	pxd_tls_tickets_attach(f->server);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	SSL_CTX_free(f->server);
	SSL_CTX_free(f->client);
	free(f);
	return 0;
}

/* Moves what <from> wrote to <to>'s input. */
static void shuttle(SSL *from, SSL *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof(buf))) > 0)
		BIO_write(SSL_get_rbio(to), buf, n);
}

static SSL *new_ssl(SSL_CTX *ctx)
{
	SSL *s = SSL_new(ctx);
	BIO *r = BIO_new(BIO_s_mem());
	BIO *w = BIO_new(BIO_s_mem());

	BIO_set_mem_eof_return(r, -1);
	SSL_set_bio(s, r, w);
	return s;
}

struct run {
	struct fx *f;
	int max_version;
	SSL_SESSION *in;  /* offered by the client, or NULL */
	SSL_SESSION *out; /* the ticket the client kept */
	int reused;
	int done;
};

/* One handshake (bounded: 20 flights), then the ticket read by the client. */
static void *handshake(void *arg)
{
	struct run *r = arg;
	SSL *srv = new_ssl(r->f->server);
	SSL *cli = new_ssl(r->f->client);
	char byte;
	int s = 0, c = 0;

	SSL_set_accept_state(srv);
	SSL_set_connect_state(cli);
	SSL_set_max_proto_version(cli, r->max_version);
	if (r->in)
		SSL_set_session(cli, r->in);
	for (int i = 0; i < 20 && (s != 1 || c != 1); i++) {
		if (c != 1)
			c = SSL_do_handshake(cli);
		shuttle(cli, srv);
		if (s != 1)
			s = SSL_do_handshake(srv);
		shuttle(srv, cli);
	}
	SSL_read(cli, &byte, 1); /* takes the TLS 1.3 NewSessionTicket; no data follows */
	r->done = s == 1 && c == 1;
	r->reused = SSL_session_reused(cli);
	r->out = SSL_get1_session(cli);
	SSL_set_shutdown(cli, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(cli);
	SSL_free(srv);
	return NULL;
}

static void resume_checks(struct fx *f, int version)
{
	struct run first = { .f = f, .max_version = version };
	struct run again = { .f = f, .max_version = version };
	struct run other = { .f = f, .max_version = version };
	pthread_t t;

	handshake(&first);
	assert_true(first.done);
	assert_false(first.reused);
	assert_non_null(first.out);

	again.in = first.out;
	handshake(&again);
	assert_true(again.done);
	assert_true(again.reused);

	/* Another thread derives the same keys without any shared state. */
	other.in = again.out;
	assert_int_equal(pthread_create(&t, NULL, handshake, &other), 0);
	pthread_join(t, NULL);
	assert_true(other.done);
	assert_true(other.reused);

	SSL_SESSION_free(first.out);
	SSL_SESSION_free(again.out);
	SSL_SESSION_free(other.out);
}

static void test_tls13_ticket_resumes_on_any_thread(void **state)
{
	resume_checks(*state, TLS1_3_VERSION);
}

static void test_tls12_ticket_resumes_on_any_thread(void **state)
{
	resume_checks(*state, TLS1_2_VERSION);
}

/*
 * A ticket whose period is neither the current one nor the one before is
 * refused: a full handshake. Changing the period length moves "now" to a
 * different period number, as the passing of two periods would.
 */
static void test_ticket_of_an_old_period_is_refused(void **state)
{
	struct run first = { .f = *state, .max_version = TLS1_3_VERSION };
	struct run later = { .f = *state, .max_version = TLS1_3_VERSION };

	handshake(&first);
	assert_true(first.done);
	pxd_tls_tickets_set_rotation(60);
	later.in = first.out;
	handshake(&later);
	pxd_tls_tickets_set_rotation(3600);
	assert_true(later.done);
	assert_false(later.reused);
	SSL_SESSION_free(first.out);
	SSL_SESSION_free(later.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tls13_ticket_resumes_on_any_thread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls12_ticket_resumes_on_any_thread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ticket_of_an_old_period_is_refused, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("tls_tickets", tests, NULL, NULL);
}
