/*
 * picoacme_linux_config.h - the core's options for the Linux command
 * (PICOACME_CONFIG_FILE of its own core build, platform/linux/CMakeLists.txt;
 * the library picoacme_core keeps the defaults of
 * picoacme_config_defaults.h).
 *
 * Up to 100 names per order, as uacme and certbot take. The buffers follow
 * from that, measured against Pebble (authorization URLs ~75 bytes, an
 * identifier ~45 bytes of JSON):
 *   - the newOrder answer of 100 names is ~13 KB with ~620 JSON tokens;
 *   - the CSR of 100 names of up to PICOACME_NAME_MAX bytes is at most
 *     7,060 bytes of DER: ~9.4 KB of base64url in the first half of work,
 *     a ~13.7 KB request in tx;
 *   - the chain is streamed into the state file's inactive slot (32 KiB,
 *     STATE_SIZE); the command reads the stored record back whole into rx
 *     (picoacme_stored()), so CERT_MAX keeps record (fields ~1 KB + chain)
 *     within rx: 22 KiB, a 12-certificate Pebble chain is ~14 KB.
 * The context is ~85 KiB (a static global in main.c).
 */
#ifndef PICOACME_LINUX_CONFIG_H
#define PICOACME_LINUX_CONFIG_H

#define PICOACME_MAX_IDENTIFIERS 100U
#define PICOACME_RX_BUF_SIZE     24576U
#define PICOACME_TX_BUF_SIZE     16384U
#define PICOACME_WORK_BUF_SIZE   20480U
#define PICOACME_JSON_TOKENS     1024U
#define PICOACME_CERT_MAX        22528U
/* the CA's whole problem detail for the operator */
#define PICOACME_PROBLEM_DETAIL_MAX 1024U

#endif
