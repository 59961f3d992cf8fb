"""Writes golden/tokens.json: melodies and their tokens, the contract between the Python
tokenizer (training) and the Rust one (the plugin). Run after changing the vocabulary; the
tests fail if the file and the tokenizer disagree."""

import json
from pathlib import Path

import tokens as T

CASES = [
    {
        "name": "4/4 quarter notes, one bar",
        "melody": {"style": "folk", "meters": [[0, 4, 4]], "notes": [[0, 12, 60], [12, 12, 62], [24, 12, 64], [36, 12, 65]]},
    },
    {
        "name": "pickup: two eighths before the first bar line (bar 0 holds them at its end)",
        "melody": {"style": "celtic", "meters": [[0, 6, 8]], "notes": [[24, 6, 67], [30, 6, 69], [36, 18, 71], [54, 18, 72]]},
    },
    {
        "name": "a tie across the bar line, merged into one long note",
        "melody": {"style": "chorale", "meters": [[0, 4, 4]], "notes": [[0, 36, 67], [36, 24, 69], [60, 36, 67]]},
    },
    {
        "name": "4/2 with a note longer than a bar (clamped at 192 ticks)",
        "melody": {"style": "renaissance", "meters": [[0, 4, 2]], "notes": [[0, 48, 62], [48, 48, 65], [96, 192, 64]]},
    },
    {
        "name": "triplets and sixteenths on the 12-per-beat grid, with a rest and an empty bar",
        "melody": {"style": "chinese-folk", "meters": [[0, 2, 4]], "notes": [[0, 4, 74], [4, 4, 76], [8, 4, 79], [12, 3, 81], [15, 3, 79], [18, 6, 76], [72, 12, 74]]},
    },
    {
        "name": "a meter change from 3/4 to 2/4 in bar 2",
        "melody": {"style": "folk", "meters": [[0, 3, 4], [2, 2, 4]], "notes": [[0, 36, 60], [36, 36, 62], [72, 24, 64], [96, 12, 65]]},
    },
    {
        "name": "any style (model v2's unconditioned token) in a bass register",
        "melody": {"style": "any", "meters": [[0, 4, 4]], "notes": [[0, 24, 36], [24, 24, 43], [48, 48, 31]]},
    },
]


def main() -> None:
    out = []
    for case in CASES:
        tokens = T.encode(case["melody"])
        assert T.decode(tokens) == case["melody"], case["name"]
        out.append({"name": case["name"], "melody": case["melody"], "tokens": tokens, "names": [T.VOCAB[t] for t in tokens]})
    document = {
        "vocab_size": len(T.VOCAB),
        "vocab": T.VOCAB,
        "ticks_per_beat": T.TICKS_PER_BEAT,
        "cases": out,
    }
    Path(__file__).with_name("golden").mkdir(exist_ok=True)
    Path(__file__).with_name("golden").joinpath("tokens.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"{len(out)} cases, vocabulary of {len(T.VOCAB)}")


if __name__ == "__main__":
    main()
