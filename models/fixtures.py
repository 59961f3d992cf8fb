"""Writes the DAW-style fixture melodies in assets/fixtures/ (8 bars each, so `continuo eval
--prompt-bars 4 --bars 4` has a true continuation): bass lines around C1 and C2, a lead around
C7, and a repeated synth hook. Plain Standard MIDI Files, written without dependencies.

    python3 models/fixtures.py
"""
from __future__ import annotations

import struct
from pathlib import Path

from export_midi import var_len

PPQ = 480
OUT = Path(__file__).resolve().parent.parent / "assets" / "fixtures"


def write(name: str, notes: list[tuple[float, float, int, int]], bpm: float = 110.0,
          change: tuple[float, int, float] | None = None) -> None:
    """notes: (start beat, length in beats, pitch, velocity); change: (beat, numerator, bpm) where
    the file changes to numerator/4 at another tempo."""
    events = []
    if change is not None:
        beat, numerator, new_bpm = change
        tick = round(beat * PPQ)
        events.append((tick, -1, b"\xff\x51\x03" + round(60_000_000 / new_bpm).to_bytes(3, "big")))
        events.append((tick, -1, bytes([0xFF, 0x58, 0x04, numerator, 0x02, 0x18, 0x08])))
    for start, length, pitch, velocity in notes:
        events.append((round(start * PPQ), 1, bytes([0x90, pitch, velocity])))
        events.append((round((start + length) * PPQ), 0, bytes([0x80, pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray()
    tempo = round(60_000_000 / bpm)
    track += b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")
    track += b"\x00\xff\x58\x04\x04\x02\x18\x08"
    now = 0
    for tick, _, data in events:
        track += var_len(tick - now) + data
        now = tick
    track += b"\x00\xff\x2f\x00"
    body = b"MThd" + struct.pack(">IHHH", 6, 0, 1, PPQ) + b"MTrk" + struct.pack(">I", len(track)) + track
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_bytes(body)


def riff(pattern: list[int], shift: int, bars: int = 8, step: float = 0.5, length: float = 0.4,
         accents: tuple[int, ...] = (100, 80, 90, 80)) -> list[tuple[float, float, int, int]]:
    per_bar = round(4 / step)
    notes = []
    for i in range(bars * per_bar):
        notes.append((i * step, length, pattern[i % len(pattern)] + shift, accents[i % len(accents)]))
    return notes


# A minor-pentatonic bass riff in eighths (two bars long), around C2 and an octave lower.
BASS = [0, 0, 7, 0, 3, 5, 7, 10, 0, 0, 7, 0, 12, 10, 7, 5]
write("bass-c2.mid", riff(BASS, 36))
write("bass-c1.mid", riff(BASS, 24))
# A lead around C7 in eighths and quarters.
LEAD = [0, 2, 4, 7, 9, 7, 4, 2, 0, 4, 7, 12, 11, 7, 4, 2]
write("lead-c7.mid", riff(LEAD, 96, step=0.5, length=0.45))
# A syncopated A-minor synth hook in sixteenths, repeated every two bars.
HOOK = [0, 0, 12, 0, 10, 0, 7, 0, 0, 3, 0, 5, 7, 0, 3, 0]
write("synth-hook.mid", riff(HOOK, 57, step=0.25, length=0.2, accents=(110, 70, 90, 70)))
# Four bars of 4/4 at 100 BPM, then the file turns to a 3/4 waltz at 140 BPM for four bars.
WALTZ = [67, 64, 64, 65, 62, 62, 60, 64, 67, 67, 65, 62]
four = [(i * 1.0, 0.9, [60, 62, 64, 65, 67, 65, 64, 62][i % 8], 90) for i in range(16)]
three = [(16 + i * 1.0, 0.9, WALTZ[i % len(WALTZ)], 90) for i in range(12)]
write("meter-change.mid", four + three, bpm=100.0, change=(16.0, 3, 140.0))
print(f"fixtures written to {OUT}")
