#!/usr/bin/env python3
"""fw_footprint.py - per-part size of a firmware image from its linker map.

    tests/qemu/fw_footprint.py BUILD_DIR             (qemu-mps2 bare metal)
    tests/qemu/fw_footprint.py --freertos BUILD_DIR  (platform/freertos-mps2)

Reads BUILD_DIR/fw.map. Sums the input sections kept in the link (after
--gc-sections) by the archive or object they came from, grouped by part
(core, ports, wolfSSL, lwIP, FreeRTOS, application, libc), into text (code +
read-only data, in flash), data and bss. The FreeRTOS image's task stacks
and kernel objects are static: they are in bss.
"""
import re
import sys

WOLF = ("wolfSSL 5.5.4", re.compile(r"libfw_wolfssl\.a"))
LIBC = ("libc + libgcc (picolibc)", re.compile(r"."))

PARTS = {
    "mps2": [
        ("core (picoacme engine)", re.compile(r"libfw_picoacme_core\.a")),
        ("ports (wolfssl tls+crypto, lwip)", re.compile(r"libfw_picoacme_(tls|crypto)\.a|libpicoacme_lwip\.a")),
        WOLF,
        ("lwIP 2.1.3", re.compile(r"libfw_lwip\.a")),
        ("platform (qemu-mps2)", re.compile(r"fw\.elf\.dir")),
        LIBC,
    ],
    "freertos": [
        ("core (picoacme engine + keeper)", re.compile(r"libfw_picoacme_core\.a")),
        ("ports (bsdsock on lwIP sockets, wolfssl tls+crypto)", re.compile(r"libfw_picoacme_ports\.a")),
        WOLF,
        ("lwIP 2.1.3 threaded + sockets + sys_arch", re.compile(r"libfw_lwip\.a")),
        ("FreeRTOS kernel V11.3.0", re.compile(r"libfw_freertos\.a")),
        ("application (tasks, stacks, pools, driver)", re.compile(r"fw\.elf\.dir")),
        LIBC,
    ],
}


def kind(sec):
    if sec.startswith((".text", ".rodata", ".ARM", ".init", ".fini", ".glue", ".vfp11", ".v4_bx", ".iplt", ".srodata")):
        return "text"
    if sec.startswith((".data", ".sdata", ".tdata")):
        return "data"
    if sec.startswith((".bss", ".sbss", "COMMON", ".tbss", ".noinit")):
        return "bss"
    return None


def main():
    args = sys.argv[1:]
    image = "mps2"
    if args and args[0] == "--freertos":
        image = "freertos"
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: fw_footprint.py [--freertos] BUILD_DIR")
    parts = PARTS[image]
    path = args[0].rstrip("/") + "/fw.map"
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    except StopIteration:
        sys.exit("no memory map in " + path)
    sums = {name: {"text": 0, "data": 0, "bss": 0} for name, _ in parts}
    pending = None
    for l in lines[start:]:
        if l.startswith("/DISCARD/"):
            break
        m = re.match(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", l)
        if m is None and pending is not None:
            m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", l)
            if m2:
                m = (pending, m2.group(1), m2.group(2), m2.group(3))
            pending = None
        elif m is None:
            m1 = re.match(r"^ (\.\S+|COMMON)$", l)
            pending = m1.group(1) if m1 else None
            continue
        else:
            m = m.groups()
            pending = None
        if m is None:
            continue
        sec, addr, size, src = m
        k = kind(sec)
        size = int(size, 16)
        if k is None or size == 0 or int(addr, 16) == 0 and k == "text":
            continue
        for name, rx in parts:
            if rx.search(src):
                sums[name][k] += size
                break
    tot = {"text": 0, "data": 0, "bss": 0}
    print("| part | text (flash) | data | bss |")
    print("|---|---:|---:|---:|")
    for name, _ in parts:
        s = sums[name]
        for k in tot:
            tot[k] += s[k]
        print(f"| {name} | {s['text']} | {s['data']} | {s['bss']} |")
    print(f"| total of input sections | {tot['text']} | {tot['data']} | {tot['bss']} |")


if __name__ == "__main__":
    main()
