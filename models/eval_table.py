"""Collects `continuo eval --json` reports (neural, markov, repeat) into eval-continuation.json
and prints them as one Markdown table. Standard library only; run by `cargo xtask eval`.

    python3 models/eval_table.py target/eval
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATORS = [("neural", "neural model"), ("markov", "Markov (Continuator)"), ("repeat", "repeat last bar")]
COLUMNS = [
    ("nll_per_note", "NLL/note ↓", 3),
    ("in_key_rate", "in key", 3),
    ("pitch_class_overlap", "PC overlap ↑", 3),
    ("density_ratio", "density ratio (→1)", 2),
    ("groove_consistency", "groove", 3),
    ("pitch_range", "range (semitones)", 1),
    ("copy_rate", "copy rate", 3),
    ("motif_reuse", "motif reuse", 3),
    ("register_drift", "register drift (semitones)", 2),
    ("largest_leap", "largest leap", 1),
    ("single_pitch", "single-pitch answers", 3),
    ("held_ending", "held ending", 3),
    ("chord_tone_ending", "chord-tone ending", 3),
    ("onset_pitch_f1", "onset/pitch F1", 3),
    ("rest_rate", "rest rate", 3),
    ("articulation", "articulation", 2),
]


def cell(value, digits):
    return "—" if value is None else f"{value:.{digits}f}"


def table(summary: dict) -> str:
    lines = [
        "| continuation by | files | " + " | ".join(c[1] for c in COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for key, name in GENERATORS:
        r = summary["generators"].get(key)
        if r is None:
            continue
        values = {"nll_per_note": r["nll_per_note"], **r["aggregate"]}
        lines.append(
            f"| {name} | {r['files_evaluated']} | "
            + " | ".join(cell(values.get(c[0]), c[2]) for c in COLUMNS)
            + " |"
        )
    truth = summary["truth"]
    lines.append(
        "| *true continuation* | | "
        + " | ".join(cell(None if c[0] == "nll_per_note" else truth.get(c[0]), c[2]) for c in COLUMNS)
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "target" / "eval"
    summary = {"generators": {}}
    for key, _ in GENERATORS:
        path = folder / f"{key}.json"
        if not path.exists():
            continue
        report = json.loads(path.read_text())
        summary["generators"][key] = {
            k: report[k]
            for k in ["files_evaluated", "nll_per_note", "aggregate", "seconds", "temperature", "seed"]
        }
        summary["generators"][key]["skipped"] = len(report["skipped"])
        for k in ["prompt_bars", "bars"]:
            summary[k] = report[k]
        summary["truth"] = report["truth"]
    if not summary["generators"]:
        sys.exit(f"no reports in {folder}")
    (HERE / "eval-continuation.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(table(summary))


if __name__ == "__main__":
    main()
