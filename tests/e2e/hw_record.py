#!/usr/bin/env python3
"""hw_record.py STATE vars LEAF: read the newest valid record of a picoacme
--state file (A/B store, core/src/store.c; TLVs, picoacme_record.h), write
the stored leaf certificate (PEM) to LEAF and print shell assignments:
REC_TAGS (the TLV tags present), REC_ACCT / REC_CERT (the key references,
hex, empty when absent). One call per check: a python start is slow on a
loaded machine."""
import struct, sys, zlib

def newest(img):
    # two slots, each half of the file: 64 KiB files (32 KiB slots) since
    # the chain is streamed into the store, 16 KiB files made before
    slot = len(img) // 2
    best = None
    for base in (0, slot):
        h = img[base:base + 24]
        if len(h) < 24 or h[:4] != b"PACM":
            continue
        ver, flags, gen, length, crc, hcrc = struct.unpack("<HHIIII", h[4:24])
        if zlib.crc32(h[:20]) != hcrc or ver != 1 or flags != 0 or length > slot - 24:
            continue
        payload = img[base + 24:base + 24 + length]
        if zlib.crc32(payload) != crc:
            continue
        if best is None or gen > best[0]:
            best = (gen, payload)
    return best[1] if best else None


def tlvs(rec):
    p, out = 0, {}
    while p + 3 <= len(rec):
        tag, ln = rec[p], rec[p + 1] | (rec[p + 2] << 8)
        if tag == 10:  # PICOACME_REC_CHAIN: the last field, to the record's end
            ln = len(rec) - p - 3
        out[tag] = rec[p + 3:p + 3 + ln]
        p += 3 + ln
    return out


def main():
    rec = newest(open(sys.argv[1], "rb").read())
    if rec is None:
        sys.exit(1)
    t = tlvs(rec)
    pem = t.get(10, t.get(5, b"")).decode()
    blocks = [b.strip() + "\n-----END CERTIFICATE-----\n"
              for b in pem.split("-----END CERTIFICATE-----") if b.strip()]
    with open(sys.argv[3], "w") as f:
        f.write("".join(blocks[:1]))
    print("REC_TAGS='%s'" % " ".join(str(k) for k in sorted(t)))
    print("REC_ACCT='%s'" % t.get(8, b"").hex())
    print("REC_CERT='%s'" % t.get(9, b"").hex())

main()
