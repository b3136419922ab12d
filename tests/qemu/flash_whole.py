#!/usr/bin/env python3
"""flash_whole.py FLASH CUT: is the newest record in a picoacme store image
whole, although a power cut stopped its save after CUT programmed bytes?

The test's own reading of the store format (core/src/store.c): two slots,
each a 24-byte header ("PACM", u16 version 1, u16 flags 0, u32 generation,
u32 length, u32 payload CRC-32, u32 header CRC-32 of bytes 0..19) and the
payload; a save programs the payload, then the header. A cut after CUT
bytes of a save of S = length + 24 bytes leaves the last S - CUT of them
unprogrammed, as erased NOR reads: 0xFF. So the new record can be whole
after a cut only when the cut fell in its header and every header byte it
did not program is 0xFF (one save in 256 ends in such a byte), or when the
cut came after the save. Exit 0 and say why when the newest valid record
is whole at CUT; exit 1 when it could not be (the store would have taken
a torn record), 2 when the image holds no valid record.
"""
import struct
import sys
import zlib

HDR = 24


def records(img):
    """(generation, offset, length, header bytes) of every valid record."""
    out = []
    for off in range(0, len(img) - HDR + 1, 256):
        h = img[off:off + HDR]
        if h[:4] != b"PACM":
            continue
        _, ver, flags, gen, length, crc, hcrc = struct.unpack("<4sHHIIII", h)
        if ver != 1 or flags != 0 or zlib.crc32(h[:20]) != hcrc:
            continue
        body = img[off + HDR:off + HDR + length]
        if len(body) == length and zlib.crc32(body) == crc:
            out.append((gen, off, length, h))
    return out


def newest(recs):
    """The record whose generation is after the other's (RFC 1982, 32 bits)."""
    best = recs[0]
    for r in recs[1:]:
        if 0 < ((r[0] - best[0]) & 0xFFFFFFFF) < 0x80000000:
            best = r
    return best


def main():
    img = open(sys.argv[1], "rb").read()
    cut = int(sys.argv[2])
    recs = records(img)
    if not recs:
        print("no valid record in the image")
        return 2
    gen, off, length, h = newest(recs)
    size = length + HDR
    what = "record generation %d at 0x%x (%d-byte save)" % (gen, off, size)
    if cut >= size:
        print("%s: the cut after %d bytes came after the whole save" % (what, cut))
        return 0
    if cut < length:
        print("%s: the cut after %d bytes fell in its payload, yet it reads as valid" % (what, cut))
        return 1
    missing = h[cut - length:]
    if missing != b"\xff" * len(missing):
        print("%s: the cut after %d bytes left header bytes %s unprogrammed, yet it reads as valid"
              % (what, cut, missing.hex()))
        return 1
    print("%s: the cut after %d bytes left only its last %d header byte(s), 0xFF, "
          "unprogrammed: erased NOR already holds them, the record is whole"
          % (what, cut, len(missing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
