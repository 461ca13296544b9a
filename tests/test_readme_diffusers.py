"""The README's "Use it from diffusers" snippet runs as written against a tiny saved model."""

import re

import numpy as np
from PIL import Image

from dnaf.pipeline import DNAFPipeline, make_sampler

from .conftest import REPO
from .model_helpers import SIZE, tiny_model


def _snippet() -> str:
    section = (REPO / "README.md").read_text().split("## Use it from diffusers", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_snippet_runs_on_a_saved_model(tmp_path, monkeypatch):
    model, scheduler = tiny_model("pixel")
    DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE).save_pretrained(tmp_path / "model")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (50, 40, 3), dtype=np.uint8)).save(tmp_path / "person.png")
    Image.fromarray(rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)).save(tmp_path / "skeleton.png")
    code = _snippet()
    assert '"results/demo/train/model"' in code and "num_inference_steps=50" in code
    # the tiny model's folder, and two steps instead of 50 and 20 (the test's time, not the snippet's)
    code = code.replace('"results/demo/train/model"', repr(str(tmp_path / "model")))
    code = re.sub(r"num_inference_steps=\d+", "num_inference_steps=2", code)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    for name in ("moved.png", "moved-dpm.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size == (SIZE[1], SIZE[0])
    assert not np.array_equal(np.asarray(Image.open("moved.png")), np.asarray(Image.open("moved-dpm.png")))
