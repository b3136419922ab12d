#!/usr/bin/env python3
"""Kconfig and picoacme_config_defaults.h must list the same options with the
same defaults (STYLE.md: each PICOACME_<NAME> has a CONFIG_PICOACME_<NAME>
twin). Exits non-zero and names every mismatch."""
import re
import sys

root = sys.argv[1]
hdr = open(f"{root}/core/include/picoacme/picoacme_config_defaults.h").read()
kc = open(f"{root}/Kconfig").read()

defaults = {}
for m in re.finditer(r"#ifndef (PICOACME_\w+)\n#define \1 (\S+)", hdr):
    defaults[m.group(1)] = m.group(2).rstrip("U")

kconfig = {}
for block in re.split(r"\n(?=config |menuconfig )", kc):
    m = re.match(r"(?:config|menuconfig) (PICOACME_\w+)", block)
    if not m or m.group(1) == "PICOACME":
        continue
    d = re.search(r"\n\tdefault (\S+)", block)
    val = d.group(1) if d else None
    val = {"y": "1", "n": "0"}.get(val, val)
    kconfig[m.group(1)] = val

bad = 0
for name in sorted(set(defaults) | set(kconfig)):
    if name not in kconfig:
        print(f"MISSING in Kconfig: CONFIG_{name}"); bad += 1
    elif name not in defaults:
        print(f"MISSING in defaults header: {name}"); bad += 1
    elif defaults[name] != kconfig[name]:
        print(f"DIFFERENT default: {name} header={defaults[name]} Kconfig={kconfig[name]}"); bad += 1
print(f"{len(defaults)} options checked, {bad} mismatches")
sys.exit(1 if bad or not defaults else 0)
