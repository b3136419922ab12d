/*
 * lan9118.c - lwIP netif driver for the SMSC LAN9118 10/100 Ethernet
 * controller, written from the chip's register description (SMSC LAN9118
 * datasheet: system CSRs, MAC CSRs behind MAC_CSR_CMD/DATA, PHY behind
 * MII_ACC/DATA, TX/RX data and status FIFOs).
 *
 * Polled: the superloop calls lan9118_poll(); TX copies one frame into the
 * TX data FIFO (command A/B words then data). Frames are copied through one
 * static word buffer, so pbuf chains of any shape work.
 */
#include "lan9118.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

/* ---- system control and status registers (byte offsets) --------------- */
#define REG(off)       (*(volatile uint32_t *)(LAN9118_BASE + (off)))
#define RX_DATA_FIFO   0x00u
#define TX_DATA_FIFO   0x20u
#define RX_STATUS_FIFO 0x40u
#define TX_STATUS_FIFO 0x48u
#define ID_REV         0x50u
#define IRQ_CFG        0x54u
#define INT_STS        0x58u
#define INT_EN         0x5Cu
#define BYTE_TEST      0x64u
#define RX_CFG         0x6Cu
#define TX_CFG         0x70u
#define HW_CFG         0x74u
#define RX_FIFO_INF    0x7Cu
#define TX_FIFO_INF    0x80u
#define PMT_CTRL       0x84u
#define MAC_CSR_CMD    0xA4u
#define MAC_CSR_DATA   0xA8u
#define AFC_CFG        0xACu

#define BYTE_TEST_VALUE  0x87654321u
#define HW_CFG_SRST      0x00000001u
#define HW_CFG_MBO       0x00100000u /* must be one */
#define HW_CFG_TX_FIF_5K 0x00050000u /* 5 KiB TX FIFO (the reset value) */
#define PMT_CTRL_READY   0x00000001u
#define TX_CFG_TX_ON     0x00000002u
#define TX_CFG_TXSAO     0x00000004u /* status FIFO may overrun: we drain it anyway */
#define MAC_CSR_BUSY     0x80000000u
#define MAC_CSR_READ     0x40000000u
#define AFC_CFG_DEFAULT  0x006E3740u /* datasheet's recommended flow control */

/* TX command words */
#define TXA_FIRST_SEG 0x00002000u
#define TXA_LAST_SEG  0x00001000u
#define TXA_LEN_MASK  0x000007FFu

/* RX status word */
#define RXS_ERROR  0x00008000u
#define RXS_LEN(s) (((s) >> 16) & 0x3FFFu) /* includes the 4-byte FCS */

/* ---- MAC CSRs (index) -------------------------------------------------- */
#define MAC_CR        1u
#define MAC_ADDRH     2u
#define MAC_ADDRL     3u
#define MII_ACC       6u
#define MII_DATA      7u
#define MAC_CR_FDPX   0x00100000u
#define MAC_CR_TXEN   0x00000008u
#define MAC_CR_RXEN   0x00000004u
#define MII_ACC_BUSY  0x1u
#define MII_ACC_WRITE 0x2u
#define PHY_ADDR      1u

/* ---- PHY registers (IEEE 802.3 clause 22) ------------------------------ */
#define PHY_BMCR        0u
#define PHY_BMSR        1u
#define PHY_ANAR        4u
#define BMCR_RESET      0x8000u
#define BMCR_ANEN       0x1000u
#define BMCR_ANRESTART  0x0200u
#define BMSR_LINK       0x0004u
#define ANAR_ALL_10_100 0x01E1u

#define SPIN_LIMIT 100000u
#define FRAME_MAX  1536u /* a VLAN-tagged frame plus FCS fits */

static uint32_t frame_words[FRAME_MAX / 4u];
static uint16_t tx_tag;

static int mac_wait(void)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if ((REG(MAC_CSR_CMD) & MAC_CSR_BUSY) == 0) {
            return 0;
        }
    }
    return -1;
}

static uint32_t mac_read(uint32_t idx)
{
    (void)mac_wait();
    REG(MAC_CSR_CMD) = MAC_CSR_BUSY | MAC_CSR_READ | idx;
    (void)mac_wait();
    return REG(MAC_CSR_DATA);
}

static void mac_write(uint32_t idx, uint32_t val)
{
    (void)mac_wait();
    REG(MAC_CSR_DATA) = val;
    REG(MAC_CSR_CMD) = MAC_CSR_BUSY | idx;
    (void)mac_wait();
}

static int mii_wait(void)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if ((mac_read(MII_ACC) & MII_ACC_BUSY) == 0) {
            return 0;
        }
    }
    return -1;
}

static uint16_t phy_read(uint32_t reg)
{
    (void)mii_wait();
    mac_write(MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_ACC_BUSY);
    (void)mii_wait();
    return (uint16_t)mac_read(MII_DATA);
}

static void phy_write(uint32_t reg, uint16_t val)
{
    (void)mii_wait();
    mac_write(MII_DATA, val);
    mac_write(MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_ACC_WRITE | MII_ACC_BUSY);
    (void)mii_wait();
}

int lan9118_link_up(void)
{
    return (phy_read(PHY_BMSR) & BMSR_LINK) != 0;
}

static void drain_tx_status(void)
{
    while (((REG(TX_FIFO_INF) >> 16) & 0xFFu) != 0) {
        (void)REG(TX_STATUS_FIFO);
    }
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    uint16_t len = p->tot_len;
    if (len == 0 || len > FRAME_MAX - 4u || len > TXA_LEN_MASK) {
        return ERR_IF;
    }
    uint32_t words = ((uint32_t)len + 3u) / 4u;
    uint32_t spins = 0;
    /* TDFREE (bytes) must hold the two command words and the data. */
    while ((REG(TX_FIFO_INF) & 0xFFFFu) < words * 4u + 8u) {
        drain_tx_status();
        if (++spins > SPIN_LIMIT) {
            return ERR_MEM;
        }
    }
    frame_words[words - 1u] = 0;
    if (pbuf_copy_partial(p, frame_words, len, 0) != len) {
        return ERR_BUF;
    }
    tx_tag++;
    REG(TX_DATA_FIFO) = TXA_FIRST_SEG | TXA_LAST_SEG | len;
    REG(TX_DATA_FIFO) = ((uint32_t)tx_tag << 16) | len;
    for (uint32_t i = 0; i < words; i++) {
        REG(TX_DATA_FIFO) = frame_words[i];
    }
    drain_tx_status();
    return ERR_OK;
}

int lan9118_poll(struct netif *netif)
{
    int frames = 0;
    /* Bounded: at most a FIFO's worth of frames per call. */
    for (int n = 0; n < 32; n++) {
        if (((REG(RX_FIFO_INF) >> 16) & 0xFFu) == 0) {
            break;
        }
        uint32_t status = REG(RX_STATUS_FIFO);
        uint32_t len = RXS_LEN(status);
        uint32_t words = (len + 3u) / 4u;
        int keep = (status & RXS_ERROR) == 0 && len >= 14u + 4u && len <= FRAME_MAX;
        /* Read the whole frame out of the FIFO; only keep a good one. */
        for (uint32_t i = 0; i < words; i++) {
            uint32_t w = REG(RX_DATA_FIFO);
            if (keep) {
                frame_words[i] = w;
            }
        }
        if (!keep) {
            continue;
        }
        uint16_t plen = (uint16_t)(len - 4u); /* drop the FCS */
        struct pbuf *p = pbuf_alloc(PBUF_RAW, plen, PBUF_POOL);
        if (p == NULL) {
            continue; /* out of pbufs: drop, TCP will retransmit */
        }
        if (pbuf_take(p, frame_words, plen) != ERR_OK || netif->input(p, netif) != ERR_OK) {
            pbuf_free(p);
            continue;
        }
        frames++;
    }
    return frames;
}

static int chip_reset(void)
{
    if (REG(BYTE_TEST) != BYTE_TEST_VALUE) {
        return -1;
    }
    REG(HW_CFG) = HW_CFG_SRST;
    uint32_t i;
    for (i = 0; i < SPIN_LIMIT && (REG(HW_CFG) & HW_CFG_SRST) != 0; i++) {
    }
    for (i = 0; i < SPIN_LIMIT && (REG(PMT_CTRL) & PMT_CTRL_READY) == 0; i++) {
    }
    if (i == SPIN_LIMIT) {
        return -1;
    }
    REG(HW_CFG) = HW_CFG_MBO | HW_CFG_TX_FIF_5K;
    REG(AFC_CFG) = AFC_CFG_DEFAULT;
    REG(IRQ_CFG) = 0;
    REG(INT_EN) = 0;
    REG(INT_STS) = 0xFFFFFFFFu;
    return 0;
}

err_t lan9118_netif_init(struct netif *netif)
{
    if (chip_reset() != 0) {
        return ERR_IF;
    }
    uint32_t lo = mac_read(MAC_ADDRL);
    uint32_t hi = mac_read(MAC_ADDRH);
    netif->hwaddr[0] = (uint8_t)lo;
    netif->hwaddr[1] = (uint8_t)(lo >> 8);
    netif->hwaddr[2] = (uint8_t)(lo >> 16);
    netif->hwaddr[3] = (uint8_t)(lo >> 24);
    netif->hwaddr[4] = (uint8_t)hi;
    netif->hwaddr[5] = (uint8_t)(hi >> 8);
    if ((lo == 0 && (hi & 0xFFFFu) == 0) || (lo == 0xFFFFFFFFu && (hi & 0xFFFFu) == 0xFFFFu)) {
        /* No EEPROM address: a fixed locally administered one. */
        static const uint8_t fallback[6] = {0x02, 0x00, 0x00, 0x91, 0x18, 0x01};
        memcpy(netif->hwaddr, fallback, sizeof fallback);
        mac_write(MAC_ADDRL, (uint32_t)fallback[0] | (uint32_t)fallback[1] << 8 |
                                 (uint32_t)fallback[2] << 16 | (uint32_t)fallback[3] << 24);
        mac_write(MAC_ADDRH, (uint32_t)fallback[4] | (uint32_t)fallback[5] << 8);
    }
    netif->hwaddr_len = 6;

    phy_write(PHY_BMCR, BMCR_RESET);
    for (uint32_t i = 0; i < SPIN_LIMIT && (phy_read(PHY_BMCR) & BMCR_RESET) != 0; i++) {
    }
    phy_write(PHY_ANAR, ANAR_ALL_10_100);
    phy_write(PHY_BMCR, BMCR_ANEN | BMCR_ANRESTART);

    REG(TX_CFG) = TX_CFG_TX_ON | TX_CFG_TXSAO;
    REG(RX_CFG) = 0; /* no offset, 4-byte end alignment */
    /* Unicast to us and broadcast (DHCP/ARP); not promiscuous. */
    mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX);

    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif->output = etharp_output;
    netif->linkoutput = linkoutput;
    return ERR_OK;
}
