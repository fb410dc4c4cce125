/* SPDX-License-Identifier: MIT */
/*
 * response.h - pixelload's streaming HTTP/1.x response framing: where each
 * answer on a connection ends and its status, fed the received bytes in any
 * split. Keeps only the framing state, never the answer; one struct per
 * connection, used by the thread that owns the connection.
 */
#ifndef PL_RESPONSE_H
#define PL_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum pl_resp_state {
	PL_RESP_STATUS = 0, /* between answers: the next byte starts a status line */
	PL_RESP_HEADER,
	PL_RESP_BODY,	  /* Content-Length bytes to skip */
	PL_RESP_BODY_EOF, /* no length, not chunked: the body runs to EOF */
	PL_RESP_CHUNK_SIZE,
	PL_RESP_CHUNK_DATA,
	PL_RESP_CHUNK_END,
	PL_RESP_TRAILER,
	PL_RESP_COUNT, /* number of states; keep last */
};

/*
 * Status line, the three headers that decide framing (Content-Length,
 * Transfer-Encoding, Connection), then the body by length, by chunks, or up
 * to EOF. Other headers are skipped without being stored, so a connection
 * carries 128 bytes of parser state. All zero is the state before a first
 * answer.
 */
struct pl_resp {
	uint8_t state; /* enum pl_resp_state */
	uint8_t len;   /* bytes of the current line kept in line[] */
	bool trunc;    /* the current line was longer than line[] */
	bool close;    /* the answer says Connection: close, or ends at EOF */
	bool chunked, has_len;
	uint16_t status;
	uint64_t left; /* body or chunk bytes still to skip */
	char line[96];
};

/**
 * Feeds <len> bytes of <buf>. Returns the bytes consumed, stopping right after
 * an answer ends (<*done> set; status and close stay readable until the next
 * call), or -EPROTO for an answer that is not HTTP/1.x pixelload can frame (a
 * bad status line, 101, a bad Content-Length or chunk size, a transfer coding
 * other than chunked). Bytes of an answer that ends at EOF are all consumed:
 * the state stays PL_RESP_BODY_EOF and the caller ends the answer at EOF.
 */
ssize_t pl_resp_feed(struct pl_resp *p, const char *buf, size_t len, bool *done);

#endif
