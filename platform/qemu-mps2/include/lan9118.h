/*
 * lan9118.h - lwIP netif driver for the SMSC LAN9118 (as emulated by QEMU
 * on mps2-an385 at 0x40200000). Polled: no interrupt is used.
 */
#ifndef PICOACME_FW_LAN9118_H
#define PICOACME_FW_LAN9118_H

#include "lwip/err.h"
#include "lwip/netif.h"

#define LAN9118_BASE 0x40200000u

/* netif_add() init callback: resets the chip, reads the MAC address,
 * brings up the PHY and enables TX and RX. */
err_t lan9118_netif_init(struct netif *netif);

/* Move every received frame into lwIP (netif->input). Call from the
 * superloop; returns the number of frames handed over. */
int lan9118_poll(struct netif *netif);

/* 1 when the PHY reports a link. */
int lan9118_link_up(void);

#endif
