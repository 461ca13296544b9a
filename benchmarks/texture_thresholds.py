"""The texture metrics' two thresholds on garments of known pattern: the stripe prominence and the
high-frequency texture level of the ground truth.

Writes synthetic people (the demo generator at the demo size, JPEG like the demo; every identity's
upper garment is solid, striped or checked, its lower garment solid) and reports, per kind of
garment, the dominant peak's prominence (dnaf.metrics.stripes: a dominant stripe from PROMINENCE)
and the high-frequency energy over 8-bit rounding noise's (dnaf.metrics.texture: a ratio from
HF_TEXTURE): quantiles and how many garments reach each threshold. Also the time per garment.
Run: python benchmarks/texture_thresholds.py [--identities 80]. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from dnaf.config import Config
from dnaf.data.config import SyntheticConfig
from dnaf.data.parts import PART_LABELS, load_part_map, part_map_file, part_maps
from dnaf.demo.generate import identity_look, plan_images, write_demo_dataset
from dnaf.io.images import load_rgb
from dnaf.metrics.spectrum import garment, garment_mask, garment_spectrum, spectrum_side
from dnaf.metrics.stripes import PROMINENCE, dominant_stripe
from dnaf.metrics.texture import HF_TEXTURE, high_frequency_energy

SEED = 5


def _summary(values: list[float], threshold: float) -> dict:
    array = np.array(values)
    return {"min": round(float(array.min()), 1), "median": round(float(np.median(array)), 1),
            "max": round(float(array.max()), 1), "reaching_threshold": int((array >= threshold).sum())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=80)
    args = parser.parse_args()
    size = tuple(Config().datasets.demo.image_size)
    synthetic = SyntheticConfig(seed=SEED, train_identities=args.identities, test_identities=2, poses_per_identity=2)
    found: dict[str, list[tuple[float, float]]] = {}
    seconds, garments = 0.0, 0
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "data"
        write_demo_dataset(root, synthetic, size, "csv", workers=1)
        for image in plan_images(synthetic):
            look = identity_look(SEED, image.identity)
            picture = load_rgb(root / image.split / image.name)
            labels = load_part_map(part_map_file(part_maps(root), image.name), size)
            for name in ("upper", "lower"):
                region = garment(garment_mask(labels, PART_LABELS[name]))
                if region is None:
                    continue
                started = time.perf_counter()
                spectrum = garment_spectrum(picture, region, spectrum_side(region))
                prominence = dominant_stripe(spectrum).prominence
                energy, noise = high_frequency_energy(spectrum)
                seconds, garments = seconds + time.perf_counter() - started, garments + 1
                kind = f"upper {look.pattern}" if name == "upper" else "lower solid"
                found.setdefault(kind, []).append((prominence, energy / noise))
    print(json.dumps({
        "benchmark": "texture_thresholds", "size": list(size), "seed": SEED, "garments": garments,
        "ms_per_garment": round(1000 * seconds / garments, 1),
        "prominence": {"threshold": PROMINENCE, **{k: _summary([p for p, _ in v], PROMINENCE) | {"garments": len(v)}
                                                   for k, v in sorted(found.items())}},
        "hf_texture": {"threshold": HF_TEXTURE, **{k: _summary([e for _, e in v], HF_TEXTURE) | {"garments": len(v)}
                                                   for k, v in sorted(found.items())}},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
