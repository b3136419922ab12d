#!/usr/bin/env python3
"""flash_whole_test.py: the power-cut oracle of run_enroll.sh
(flash_whole.py) on store images built here, one per way a cut can end:
a whole save, a cut in its payload, in its header at a byte that is not
0xFF, and in its header where every unprogrammed byte is 0xFF."""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SLOT = 0x8000


def header(gen, payload):
    h = struct.pack("<4sHHIII", b"PACM", 1, 0, gen, len(payload), zlib.crc32(payload))
    return h + struct.pack("<I", zlib.crc32(h))


def payload_ending_hcrc_ff(gen, top):
    """A payload whose header's CRC has the top byte TOP (0xFF or not)."""
    for i in range(1 << 16):
        p = b"record %d " % i + bytes(200)
        if header(gen, p)[23] == top:
            return p
    raise AssertionError("no payload found")


def image(old, new, new_hdr):
    img = bytearray(b"\xff" * (2 * SLOT))
    img[SLOT:SLOT + 24] = header(2, old)
    img[SLOT + 24:SLOT + 24 + len(old)] = old
    img[24:24 + len(new)] = new
    img[0:len(new_hdr)] = new_hdr
    return bytes(img)


def oracle(img, cut):
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        f.write(img)
    try:
        r = subprocess.run([sys.executable, os.path.join(HERE, "flash_whole.py"), f.name, str(cut)],
                           capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return r.returncode, r.stdout.strip()


def main():
    old = b"old record " + bytes(100)
    ff = payload_ending_hcrc_ff(3, 0xFF)
    nf = payload_ending_hcrc_ff(3, 0x00)
    size = len(ff) + 24
    cases = [
        # (what, image, cut, wanted exit)
        ("whole save, cut after it", image(old, ff, header(3, ff)), size, 0),
        ("whole save read as if cut in its payload", image(old, nf, header(3, nf)), len(nf) - 1, 1),
        ("header's last byte 0xFF, left unprogrammed", image(old, ff, header(3, ff)[:23]), size - 1, 0),
        ("header's last byte not 0xFF, taken as if cut before it",
         image(old, nf, header(3, nf)), len(nf) + 23, 1),
        ("header cut early: the old record is the newest", image(old, nf, header(3, nf)[:10]), 1, 1),
        ("no valid record", b"\xff" * (2 * SLOT), 0, 2),
    ]
    failed = 0
    for what, img, cut, want in cases:
        rc, out = oracle(img, cut)
        ok = rc == want
        failed += not ok
        print("%s %s: cut %d -> exit %d (wanted %d): %s" % ("PASS" if ok else "FAIL", what, cut, rc, want, out))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
