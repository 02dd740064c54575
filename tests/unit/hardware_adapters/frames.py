"""Independent references for the wire fuzz tests, written from the standards' layouts
(not from hardware_adapters): does a buffer hold a well-formed frame or sentence at all?"""

from __future__ import annotations

import re

#: NMEA 0183: ``$`` body ``*`` two hex digits, the XOR of the body's characters
_SENTENCE = re.compile(r"\$([^$*]*)\*([0-9A-Fa-f]{2})")


def has_cjt188_frame(raw: bytes) -> bool:
    """CJ/T 188: 68, meter type, 7 address bytes, control, L, L data bytes, CS (sum modulo
    256 of the bytes from the 68 through the data), 16."""
    for i, byte in enumerate(raw):
        if byte != 0x68 or i + 11 > len(raw):
            continue
        end = i + 11 + raw[i + 10] + 2
        if end <= len(raw) and raw[end - 1] == 0x16 \
                and raw[end - 2] == sum(raw[i:end - 2]) % 256:
            return True
    return False


def has_checksummed_sentence(line: str) -> bool:
    """Some ``$...*HH`` in ``line`` whose checksum holds."""
    for m in _SENTENCE.finditer(line):
        xor = 0
        for ch in m.group(1):
            xor ^= ord(ch)
        if xor == int(m.group(2), 16):
            return True
    return False
