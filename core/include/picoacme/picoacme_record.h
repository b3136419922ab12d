/*
 * picoacme_record.h - the layout of the record the engine keeps in the
 * store (inside one A/B store record, picoacme_store.h): TLVs of a tag
 * byte, a 16-bit little-endian length and the value. Devices in the field
 * read their record after a firmware update, so a tag is never renumbered.
 * For tools that read a state image (the Linux command's --state file).
 */
#ifndef PICOACME_RECORD_H
#define PICOACME_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"

typedef enum picoacme_rec_tag {
    PICOACME_REC_DIR = 1,      /* the directory URL of the CA the record belongs to */
    PICOACME_REC_ACCT_KEY = 2, /* the account's private scalar (32 bytes), when exportable */
    PICOACME_REC_ACCT_URL = 3, /* the account URL (the kid) */
    PICOACME_REC_CERT_KEY = 4, /* the certificate's private scalar (32 bytes), when exportable */
    /* the chain, PEM, leaf first (records written before the chain was
     * streamed; still read) */
    PICOACME_REC_CERT = 5,
    /* the directory's newNonce, newAccount, newOrder and renewalInfo URLs,
     * separated by one space (renewalInfo may be empty): a renewal after a
     * reboot skips the directory GET */
    PICOACME_REC_DIR_URLS = 6,
    PICOACME_REC_PROFILE = 7, /* the profile the certificate was ordered with */
    /* with a crypto port that keeps keys in hardware (key_ref): what the
     * port needs to find the key again (a token object's CKA_ID, a TPM
     * handle), never key material; 1..PICOACME_KEY_REF_MAX bytes */
    PICOACME_REC_ACCT_KEY_REF = 8,
    PICOACME_REC_CERT_KEY_REF = 9,
    /* the chain, PEM, leaf first, written as it was downloaded: always the
     * last TLV, its value runs to the record's end (its length is not known
     * when the TLV starts, so the 16-bit length field is 0 and not used) */
    PICOACME_REC_CHAIN = 10
} picoacme_rec_tag_t;

/* Find tag in the record rec[0, len) (as picoacme_store_load() returns it).
 * On PICOACME_OK the value is rec[*off, *off + *vlen); nothing is copied.
 * The chain is found by either of its tags (PICOACME_REC_CERT or
 * PICOACME_REC_CHAIN); a PICOACME_REC_CHAIN value runs to len (a record
 * read only in part, picoacme_store_read(), gives its first part) and
 * ends the walk.
 * Returns one of: PICOACME_OK; PICOACME_ERR_NOT_FOUND (no such TLV);
 * PICOACME_ERR_PARSE (a TLV runs past len); PICOACME_ERR_PARAM. */
picoacme_err_t picoacme_record_find(const uint8_t *rec, size_t len, picoacme_rec_tag_t tag,
                                    size_t *off, size_t *vlen);

#endif
