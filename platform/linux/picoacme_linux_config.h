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
 *   - the chain is bounded by the state file's slot (8 KiB, STATE_SIZE):
 *     CERT_MAX leaves ~0.5 KB of the slot for the record's other fields.
 * The context is ~85 KiB (a static global in main.c).
 */
#ifndef PICOACME_LINUX_CONFIG_H
#define PICOACME_LINUX_CONFIG_H

#define PICOACME_MAX_IDENTIFIERS 100U
#define PICOACME_RX_BUF_SIZE     24576U
#define PICOACME_TX_BUF_SIZE     16384U
#define PICOACME_WORK_BUF_SIZE   20480U
#define PICOACME_JSON_TOKENS     1024U
#define PICOACME_CERT_MAX        7680U

#endif
