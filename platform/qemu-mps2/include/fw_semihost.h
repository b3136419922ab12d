/*
 * fw_semihost.h - the few ARM semihosting calls the qemu-mps2 firmware uses
 * directly (bkpt 0xAB): host files for the emulated flash, the command
 * line for test knobs, and an immediate exit that skips every cleanup (the
 * power cut of the fault-injection build).
 *
 * QEMU answers them with -semihosting-config enable=on,target=native; file
 * names are relative to QEMU's working directory.
 */
#ifndef PICOACME_FW_SEMIHOST_H
#define PICOACME_FW_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* SYS_OPEN modes (ISO C fopen equivalents). */
#define SH_MODE_RB_PLUS 3 /* "r+b": read/write an existing file */
#define SH_MODE_WB_PLUS 7 /* "w+b": create or truncate, read/write */

/* Returns a handle >= 0 or -1. */
int sh_open(const char *name, int mode);
int sh_close(int h);
/* Whole transfers: 0 on success, -1 when not every byte moved. */
int sh_read(int h, void *buf, size_t len);
int sh_write(int h, const void *buf, size_t len);
int sh_seek(int h, size_t pos);
/* File length, or -1. */
long sh_flen(int h);
/* The command line QEMU got with -semihosting-config arg=...,arg=...
 * (arguments joined by spaces), NUL-terminated; 0 on success. */
int sh_cmdline(char *buf, size_t cap);
/* SYS_EXIT_EXTENDED right away: no atexit, no stdio flush. */
void sh_exit_now(int code) __attribute__((noreturn));

#endif
