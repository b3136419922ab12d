#!/usr/bin/env python3
"""hw_record.py STATE FIELD: read the newest valid record of a picoacme
--state file (A/B store, core/src/store.c; TLVs, picoacme_record.h) and
print FIELD: tags (the TLV tags present, one per line), acct_ref / cert_ref
(hex), leaf (the stored leaf certificate, PEM), chain (the rest, PEM)."""
import struct, sys, zlib

SIZE, SLOT = 16 * 1024, 8 * 1024


def newest(img):
    best = None
    for base in (0, SLOT):
        h = img[base:base + 24]
        if len(h) < 24 or h[:4] != b"PACM":
            continue
        ver, flags, gen, length, crc, hcrc = struct.unpack("<HHIIII", h[4:24])
        if zlib.crc32(h[:20]) != hcrc or ver != 1 or flags != 0 or length > SLOT - 24:
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
        out[tag] = rec[p + 3:p + 3 + ln]
        p += 3 + ln
    return out


def main():
    rec = newest(open(sys.argv[1], "rb").read())
    if rec is None:
        sys.exit(1)
    t = tlvs(rec)
    what = sys.argv[2]
    if what == "tags":
        print("\n".join(str(k) for k in sorted(t)))
    elif what in ("acct_ref", "cert_ref"):
        v = t.get(6 if what == "acct_ref" else 7)
        if v is None:
            sys.exit(1)
        print(v.hex())
    elif what in ("leaf", "chain"):
        pem = t[5].decode()
        blocks = pem.split("-----END CERTIFICATE-----")
        blocks = [b.strip() + "\n-----END CERTIFICATE-----\n" for b in blocks if b.strip()]
        print("".join(blocks[:1] if what == "leaf" else blocks[1:]), end="")
    else:
        sys.exit(2)


main()
