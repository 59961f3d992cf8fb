"""Writes melodies of one split (default: test) as Standard MIDI Files, for `continuo eval`.

Standard library only, so it runs without the training venv:

    python3 models/export_midi.py --split test --out target/eval/test-midi

One format-0 file per melody at 120 BPM, 480 pulses per quarter (the corpus grid is 12 per
quarter), named after the melody id. Melodies whose meter changes are left out: the evaluation
cuts files into bars of one time signature. Prints how many were written and left out.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import struct
from pathlib import Path

from split import split_of

HERE = Path(__file__).resolve().parent
PULSES_PER_TICK = 40  # 480 PPQ / 12 ticks per quarter


def var_len(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def smf(notes: list[list[int]], numerator: int, denominator: int, name: str) -> bytes:
    events = [(0, 0, b"\xff\x03" + var_len(len(name.encode())) + name.encode())]
    events.append((0, 0, b"\xff\x51\x03" + (500_000).to_bytes(3, "big")))
    events.append((0, 0, bytes([0xFF, 0x58, 4, numerator, denominator.bit_length() - 1, 24, 8])))
    for start, duration, pitch in notes:
        # (time, order, message): note-offs sort before note-ons at the same time.
        events.append((start * PULSES_PER_TICK, 2, bytes([0x90, pitch, 90])))
        events.append(((start + duration) * PULSES_PER_TICK, 1, bytes([0x80, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray()
    now = 0
    for time, _, message in events:
        track += var_len(time - now) + message
        now = time
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="test", choices=["test", "val"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = meter_changes = 0
    with gzip.open(HERE / "data" / "melodies.jsonl.gz", "rt") as f:
        for line in f:
            melody = json.loads(line)
            if split_of(melody["piece"]) != args.split:
                continue
            meters = {(num, den) for _, num, den in melody["bars"]}
            if len(meters) != 1:
                meter_changes += 1
                continue
            ((numerator, denominator),) = meters
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", melody["id"])
            path = args.out / f"{melody['style']}--{name}.mid"
            path.write_bytes(smf(melody["notes"], numerator, denominator, melody["id"]))
            written += 1
    print(f"{written} {args.split} melodies written to {args.out}; {meter_changes} left out (meter changes)")


if __name__ == "__main__":
    main()
