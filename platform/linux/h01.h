/*
 * h01.h - the daemon's shared http-01 listener (h01.c).
 */
#ifndef PICOACME_H01_H
#define PICOACME_H01_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Listen on port (0: none; the same port again: kept). 0, or -1 after
 * saying why. */
int cli_h01_open(uint16_t port);
void cli_h01_close(void);
/* The listening socket, or -1. */
int cli_h01_fd(void);
/* A connection waiting on it, or -1. */
int cli_h01_accept(void);
/* Read one request from fd (2 s at most); its GET path into path. */
bool cli_h01_read_path(int fd, char *path, size_t cap);
/* Answer 200 with body (len > 0) or 404, and close fd. */
void cli_h01_answer(int fd, const char *body, size_t len);

#endif
