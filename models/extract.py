"""Extract monophonic melodies from the corpus bundled with music21.

One melody per tune (folk and fiddle collections) or per voice (Bach chorales, Renaissance
polyphony), quantized to 12 ticks per quarter note, in bar-aligned time: tick 0 is the first bar
line, so a pickup's notes sit at the end of bar 0 (they start at `bar_ticks - pickup_length`).

Rules: chords are reduced to their top note, tied notes are merged, grace notes are dropped,
simultaneous notes keep the highest, overlaps are cut, meter changes are kept bar by bar,
exact duplicates (same bars and notes) are removed, and melodies under 8 notes are dropped.

Parsing is slow (~20 minutes on 2 cores), so every source file's result is cached under
`cache/files/`; an interrupted run resumes. The combined result is `data/melodies.jsonl.gz`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
# The extracted melodies (5 MB, committed so training and tests need not parse the corpus again).
DATA = HERE / "data"
TICKS_PER_BEAT = 12
MIN_NOTES = 8

# Style → corpus folders (and, for Essen, which files). These are the plugin's Style values.
ESSEN_CHINESE = {"han1.abc", "han2.abc"}
ESSEN_SKIP = {"test0.abc", "test1.abc", "testd.abc", "teste.abc"}
SOURCES = {
    "celtic": ["oneills1850", "airdsAirs", "ryansMammoth", "miscFolk"],
    "chorale": ["bach"],
    "renaissance": ["palestrina", "josquin", "ciconia", "trecento", "luca", "lusitano"],
}


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"


def list_sources() -> list[tuple[str, str]]:
    """(style, path relative to the corpus root) for every file to parse."""
    root = corpus_root()
    files: list[tuple[str, str]] = []
    for path in sorted((root / "essenFolksong").glob("*.abc")):
        if path.name in ESSEN_SKIP:
            continue
        style = "chinese-folk" if path.name in ESSEN_CHINESE else "folk"
        files.append((style, str(path.relative_to(root))))
    for style, folders in SOURCES.items():
        for folder in folders:
            for path in sorted((root / folder).rglob("*")):
                if path.suffix.lower() in {".abc", ".krn", ".mxl", ".xml", ".musicxml"}:
                    files.append((style, str(path.relative_to(root))))
    return files


def quantize(quarter_length) -> tuple[int, bool]:
    """Ticks for a music21 offset or duration, and whether it was exactly on the grid."""
    exact = Fraction(quarter_length).limit_denominator(10_000) * TICKS_PER_BEAT
    ticks = round(exact)
    return int(ticks), exact == ticks


def melody_of_part(part) -> tuple[dict | None, str, dict]:
    """One part → (melody or None, reason, stats).

    The melody keeps its bars: `bars` lists `[start_tick, numerator, denominator]` for every
    measure, so meter changes and irregular measures survive; `notes` are `[start, duration,
    pitch]` in bar-aligned ticks.
    """
    from music21 import chord, meter, note

    stats = {"notes": 0, "off_grid": 0, "grace": 0}
    part = part.stripTies(inPlace=False)
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return None, "no measures", stats
    current = part.recurse().getElementsByClass(meter.TimeSignature).first()
    if current is None:
        current = meter.TimeSignature("4/4")
    first = measures[0]
    if first.timeSignature is not None:
        current = first.timeSignature
    bar_ql = Fraction(current.barDuration.quarterLength).limit_denominator(10_000)
    # Pickup: the first measure is shorter than a bar; its notes belong at the end of bar 0.
    padding = Fraction(first.paddingLeft or 0).limit_denominator(10_000)
    content = Fraction(first.highestTime).limit_denominator(10_000)
    if padding <= 0 and 0 < content < bar_ql:
        padding = bar_ql - content
    origin = Fraction(first.offset).limit_denominator(10_000)

    raw: list[tuple[int, int, int]] = []
    bars: list[list[int]] = []
    for index, measure in enumerate(measures):
        if measure.timeSignature is not None:
            current = measure.timeSignature
        measure_offset = Fraction(measure.offset).limit_denominator(10_000) - origin + padding
        bar_start = 0 if index == 0 else quantize(measure_offset)[0]
        if bars and bar_start <= bars[-1][0]:
            continue  # an empty or overlapping measure adds no bar
        bars.append([bar_start, int(current.numerator), int(current.denominator)])
        for element in measure.recurse().notes:
            if element.duration.isGrace or element.duration.quarterLength == 0:
                stats["grace"] += 1
                continue
            if isinstance(element, chord.Chord):
                pitches = [p.midi for p in element.pitches]
                if not pitches:
                    continue
                pitch = max(pitches)
            elif isinstance(element, note.Note):
                pitch = element.pitch.midi
            else:
                continue
            offset = measure_offset + Fraction(
                element.getOffsetInHierarchy(measure)
            ).limit_denominator(10_000)
            start, start_exact = quantize(offset)
            duration, duration_exact = quantize(element.duration.quarterLength)
            stats["notes"] += 1
            if not (start_exact and duration_exact):
                stats["off_grid"] += 1
            if 0 <= pitch <= 127 and start >= 0:
                raw.append((start, max(duration, 1), int(pitch)))
    notes = monophonic(raw)
    if len(notes) < MIN_NOTES:
        return None, "too short", stats
    return {"bars": bars, "notes": notes}, "ok", stats


def monophonic(raw: list[tuple[int, int, int]]) -> list[list[int]]:
    """Top voice: at equal onsets the highest pitch wins; a note is cut where the next starts."""
    raw = sorted(raw, key=lambda n: (n[0], -n[2]))
    line: list[list[int]] = []
    for start, duration, pitch in raw:
        if line and line[-1][0] == start:
            continue
        if line and line[-1][0] + line[-1][1] > start:
            line[-1][1] = start - line[-1][0]
        line.append([start, duration, pitch])
    return line


def extract_file(job: tuple[str, str]) -> dict:
    """Parses one corpus file (cached) and returns its melodies and statistics."""
    style, relative = job
    key = hashlib.sha1(relative.encode()).hexdigest()[:16]
    cached = CACHE / "files" / f"{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    from music21 import converter, stream

    started = time.time()
    result = {"file": relative, "style": style, "melodies": [], "skipped": {}, "stats": {}}
    try:
        parsed = converter.parse(corpus_root() / relative)
        scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
        for score_index, score in enumerate(scores):
            parts = list(score.parts) if score.parts else [score]
            # Folk and fiddle tunes are one melody; chorales and polyphony give every voice.
            if style in ("folk", "celtic", "chinese-folk"):
                parts = parts[:1]
            elif style == "chorale":
                # Chorales with instruments: keep the four sung voices where they are named.
                voices = [
                    p
                    for p in parts
                    if any(v in (p.partName or "").lower() for v in ("soprano", "alto", "tenor", "bass"))
                ]
                parts = voices or parts
            for part_index, part in enumerate(parts):
                try:
                    melody, reason, stats = melody_of_part(part)
                except Exception as error:  # a malformed tune must not lose the whole file
                    melody, reason, stats = None, f"error: {type(error).__name__}", {}
                for k, v in stats.items():
                    result["stats"][k] = result["stats"].get(k, 0) + v
                if melody is None:
                    result["skipped"][reason] = result["skipped"].get(reason, 0) + 1
                    continue
                melody["piece"] = f"{relative}#{score_index}"
                melody["id"] = f"{relative}#{score_index}/{part_index}"
                melody["style"] = style
                result["melodies"].append(melody)
    except Exception as error:
        result["skipped"][f"unparsable: {type(error).__name__}"] = 1
    result["seconds"] = round(time.time() - started, 2)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, cached)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="parse only the first N files (testing)")
    parser.add_argument("--force", action="store_true", help="extract again even if data/ has a result")
    args = parser.parse_args()
    if (DATA / "melodies.jsonl.gz").exists() and not args.force and not args.limit:
        print("data/melodies.jsonl.gz exists (use --force to extract again)")
        return

    jobs = list_sources()
    if args.limit:
        jobs = jobs[: args.limit]
    # Big files first, so the two workers finish together.
    root = corpus_root()
    jobs.sort(key=lambda j: -(root / j[1]).stat().st_size)
    started = time.time()
    results = []
    with multiprocessing.Pool(args.jobs, maxtasksperchild=50) as pool:
        for i, result in enumerate(pool.imap_unordered(extract_file, jobs), 1):
            results.append(result)
            if i % 100 == 0 or i == len(jobs):
                print(f"{i}/{len(jobs)} files, {time.time() - started:.0f} s", flush=True)

    # Deduplicate across the whole corpus, in a fixed order.
    results.sort(key=lambda r: r["file"])
    seen = set()
    melodies = []
    duplicates = 0
    skipped: dict[str, int] = {}
    stats: dict[str, int] = {}
    for result in results:
        for reason, count in result["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
        for k, v in result["stats"].items():
            stats[k] = stats.get(k, 0) + v
        for melody in result["melodies"]:
            fingerprint = json.dumps([melody["bars"], melody["notes"]])
            if fingerprint in seen:
                duplicates += 1
                continue
            seen.add(fingerprint)
            melodies.append(melody)
    DATA.mkdir(exist_ok=True)
    with gzip.open(DATA / "melodies.jsonl.gz", "wt") as out:
        for melody in melodies:
            out.write(json.dumps(melody) + "\n")
    by_style: dict[str, int] = {}
    notes_by_style: dict[str, int] = {}
    for melody in melodies:
        by_style[melody["style"]] = by_style.get(melody["style"], 0) + 1
        notes_by_style[melody["style"]] = notes_by_style.get(melody["style"], 0) + len(melody["notes"])
    summary = {
        "files": len(jobs),
        "melodies": len(melodies),
        "duplicates_removed": duplicates,
        "melodies_by_style": by_style,
        "notes_by_style": notes_by_style,
        "skipped": skipped,
        "note_stats": stats,
        "seconds": round(time.time() - started),
    }
    (DATA / "extraction-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    sys.exit(main())
