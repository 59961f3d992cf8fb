"""Which split a piece belongs to (standard library only, so light tools can use it).

sha1(piece id) mod 100 < 5 → test, < 10 → validation, else train.
"""

import hashlib


def split_of(piece: str) -> str:
    bucket = int(hashlib.sha1(piece.encode()).hexdigest(), 16) % 100
    if bucket < 5:
        return "test"
    if bucket < 10:
        return "val"
    return "train"
