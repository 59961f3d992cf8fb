"""Writes the DAW-style fixture melodies in assets/fixtures/ (8 bars each, so `continuo eval
--prompt-bars 4 --bars 4` has a true continuation): bass lines around C1 and C2, a lead around
C7, a repeated synth hook, a piano part, a tune under a pad, dorian and harmonic-minor lines,
and three played ones (timing off the grid by a few milliseconds,
notes detached as hands play them): a swung line, a syncopated staccato riff and a crescendo.
Plain Standard MIDI Files, written without dependencies.

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


def played(notes: list[tuple[float, float, int, int]], bpm: float, seed: int,
           jitter_ms: float = 12.0) -> list[tuple[float, float, int, int]]:
    """The notes as a player plays them: each onset off by a normal jitter (in milliseconds at
    `bpm`), never before the previous one. Deterministic for a seed."""
    import random
    rng = random.Random(seed)
    out, last = [], -1.0
    for start, length, pitch, velocity in notes:
        shift = rng.gauss(0.0, jitter_ms) / 1000.0 * bpm / 60.0
        onset = max(start + shift, last + 0.01, 0.0)
        out.append((onset, length, pitch, velocity))
        last = onset
    return out


# A swung eighth-note line (2:1: the off-beat on the last triplet), accented on the beat,
# each note sounding about three quarters of its gap. D dorian, up and down.
SWING = [62, 64, 65, 67, 69, 67, 65, 64, 62, 65, 69, 72, 71, 69, 67, 65]
swing = []
for i in range(64):
    beat, off = divmod(i, 2)
    start = beat + (2 / 3 if off else 0.0)
    gap = 1 / 3 if off else 2 / 3
    swing.append((start, gap * 0.75, SWING[i % len(SWING)], 72 if off else 100))
write("swing-line.mid", played(swing, 120.0, seed=1), bpm=120.0)
# A syncopated staccato riff in E minor: short notes (a third of their gap), two of every
# eight starting on an off-beat sixteenth and held across the next beat, accents on the pushes.
RIFF = [(0.0, 0.15, 52, 110), (0.5, 0.15, 52, 70), (0.75, 0.5, 55, 115), (1.5, 0.15, 52, 70),
        (2.0, 0.15, 57, 105), (2.5, 0.15, 55, 70), (2.75, 0.5, 59, 115), (3.5, 0.15, 55, 70)]
riff_notes = [(bar * 4 + s, l, p, v) for bar in range(8) for (s, l, p, v) in RIFF]
write("staccato-riff.mid", played(riff_notes, 100.0, seed=2, jitter_ms=8.0), bpm=100.0)
# Ode to Joy in quarter notes, played as a crescendo from 40 to 120 over its eight bars.
ODE = [64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62, 62, 62,
       64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 62, 60, 60, 60]
crescendo = [(i * 1.0, 0.85, p, round(40 + 80 * i / 31)) for i, p in enumerate(ODE)]
write("crescendo.mid", played(crescendo, 96.0, seed=3), bpm=96.0)
# A piano part: a tune in quarters and halves around E5 over left-hand triads on every beat
# (struck while the tune holds its half notes), eight bars of I-IV-V-I in C.
TUNE = [(0, 1, 76), (1, 1, 74), (2, 2, 72), (4, 1, 74), (5, 1, 76), (6, 2, 79),
        (8, 1, 81), (9, 1, 79), (10, 2, 77), (12, 1, 76), (13, 1, 74), (14, 2, 72)]
TRIADS = [[48, 52, 55], [48, 53, 57], [47, 50, 55], [48, 52, 55]]
tune = [(16 * half + s, l, p, 96) for half in range(2) for (s, l, p) in TUNE]
left = [(beat * 1.0, 0.9, p, 64) for beat in range(32) for p in TRIADS[(beat // 4) % 4]]
write("piano-part.mid", played(sorted(tune + left), 90.0, seed=4, jitter_ms=4.0), bpm=90.0)
# The same tune under a pad held a bar at a time on G6 and C7.
pad = [(bar * 4.0, 3.95, 91 if bar % 2 == 0 else 96, 60) for bar in range(8)]
write("pad-over-melody.mid", sorted(tune + pad), bpm=90.0)
# A D dorian line (its B natural is the dorian sixth) and an A harmonic-minor line (G#), in
# eighths and quarters.
DORIAN = [62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 69, 71, 62]
write("dorian-line.mid", riff(DORIAN, 0, step=0.5, length=0.45), bpm=100.0)
HARMONIC = [69, 71, 72, 74, 76, 77, 80, 81, 80, 77, 76, 72, 71, 80, 81, 69]
write("harmonic-minor.mid", riff(HARMONIC, 0, step=0.5, length=0.45), bpm=100.0)
print(f"fixtures written to {OUT}")
