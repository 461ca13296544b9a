"""DeepFashion image names: the flattened form used by GFLA/PATN/DPTN/CFLD split files."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_IDENTITY = re.compile(r"^(fashion(?:MEN|WOMEN).*id\d{8})")


def flatten_deepfashion_path(path: str) -> str:
    """``[img/]MEN/Denim/id_00000080/01_1_front.jpg`` -> ``fashionMENDenimid0000008001_1front.jpg``.

    Drops the ``/``, the ``_`` of ``id_``, and in the file part keeps the first ``_``-field and
    joins the rest without ``_``; category underscores stay (``Blouses_Shirts``).
    """
    parts = PurePosixPath(path).parts
    if parts and parts[0] in ("img", "fashion"):
        parts = parts[1:]
    if len(parts) != 4:
        raise ValueError(f"expected <gender>/<category>/id_<8 digits>/<file>, got {path!r}")
    gender, category, identity, file = parts
    if gender not in ("MEN", "WOMEN") or not re.fullmatch(r"id_\d{8}", identity):
        raise ValueError(f"expected <MEN|WOMEN>/<category>/id_<8 digits>/<file>, got {path!r}")
    head, *rest = file.split("_")
    if not rest:
        raise ValueError(f"expected a file name like 01_1_front.jpg, got {file!r} in {path!r}")
    return f"fashion{gender}{category}{identity.replace('_', '')}{head}_{''.join(rest)}"


def deepfashion_identity(name: str) -> str:
    """The person of a flattened name: gender, category and id (``fashionMENDenimid00000080``)."""
    match = _IDENTITY.match(name)
    if match is None:
        raise ValueError(f"not a flattened DeepFashion name: {name!r}")
    return match.group(1)


def market_identity(name: str) -> str:
    """The person of a Market-1501 name (``0228_c6s3_006817_02.jpg`` -> ``0228``): the part before
    the first underscore (also the rule of ``dnaf make-dataset``'s names)."""
    return name.split("_", 1)[0]


IDENTITY_RULES = {"deepfashion": deepfashion_identity, "prefix": market_identity}
"""The person of an image name, by the ``identity`` rule of a dataset's config."""


MARKET_JUNK_IDENTITIES = frozenset({"-1", "0000"})
"""Market-1501 junk (-1) and distractor (0000) images: annotated but never in pairs."""
