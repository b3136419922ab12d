/*
 * fw_semihost.c - raw ARM semihosting calls (see fw_semihost.h). Each call puts
 * the operation in r0 and a pointer to its argument block in r1, then
 * executes bkpt 0xAB; the debugger (QEMU) writes the result to r0.
 */
#include "fw_semihost.h"

#include <string.h>

#define SYS_OPEN                     0x01
#define SYS_CLOSE                    0x02
#define SYS_WRITE                    0x05
#define SYS_READ                     0x06
#define SYS_SEEK                     0x0A
#define SYS_FLEN                     0x0C
#define SYS_GET_CMDLINE              0x15
#define SYS_EXIT_EXTENDED            0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int sh_open(const char *name, int mode)
{
    uintptr_t a[3] = {(uintptr_t)name, (uintptr_t)mode, (uintptr_t)strlen(name)};
    return sh_call(SYS_OPEN, a);
}

int sh_close(int h)
{
    uintptr_t a[1] = {(uintptr_t)h};
    return sh_call(SYS_CLOSE, a);
}

int sh_read(int h, void *buf, size_t len)
{
    uintptr_t a[3] = {(uintptr_t)h, (uintptr_t)buf, (uintptr_t)len};
    return sh_call(SYS_READ, a) == 0 ? 0 : -1; /* returns the bytes NOT read */
}

int sh_write(int h, const void *buf, size_t len)
{
    uintptr_t a[3] = {(uintptr_t)h, (uintptr_t)buf, (uintptr_t)len};
    return sh_call(SYS_WRITE, a) == 0 ? 0 : -1; /* returns the bytes NOT written */
}

int sh_seek(int h, size_t pos)
{
    uintptr_t a[2] = {(uintptr_t)h, (uintptr_t)pos};
    return sh_call(SYS_SEEK, a) == 0 ? 0 : -1;
}

long sh_flen(int h)
{
    uintptr_t a[1] = {(uintptr_t)h};
    return (long)sh_call(SYS_FLEN, a);
}

int sh_cmdline(char *buf, size_t cap)
{
    if (cap == 0) {
        return -1;
    }
    uintptr_t a[2] = {(uintptr_t)buf, (uintptr_t)(cap - 1u)};
    buf[0] = '\0';
    if (sh_call(SYS_GET_CMDLINE, a) != 0 || a[1] >= cap) {
        buf[0] = '\0';
        return -1;
    }
    buf[a[1]] = '\0';
    return 0;
}

void sh_exit_now(int code)
{
    uintptr_t a[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
    for (;;) {
        (void)sh_call(SYS_EXIT_EXTENDED, a);
    }
}
