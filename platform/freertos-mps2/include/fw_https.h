/*
 * fw_https.h - the FreeRTOS sample's HTTPS status server (FW_HTTPS builds):
 * one task serving a small status page over TLS (wolfSSL server) with the
 * device's current certificate and key; the keeper task hands over a new
 * credential when the keeper reports ISSUED, and the next connection is
 * served with it, no reboot.
 */
#ifndef PICOACME_FW_HTTPS_H
#define PICOACME_FW_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOS.h"
#include "semphr.h"

/* Every wolfSSL call of any task is made holding this mutex (the wolfSSL
 * build is SINGLE_THREADED and both tasks share its static pool). */
extern SemaphoreHandle_t fw_wolf_lock;

/* Start the server task on TCP port (443); heap: the wolfSSL heap hint. */
void fw_https_start(uint16_t port, void *heap);

/* Hand over a certificate chain (PEM, leaf first) and its P-256 private
 * scalar; copied. The server takes it for its next connection. */
void fw_https_set_cert(const char *chain_pem, size_t len, const uint8_t priv[32],
                       uint32_t not_after);

/* The server task and its stack size in words (for the stack report). */
void *fw_https_task(void);
uint32_t fw_https_stack_words(void);

#endif
