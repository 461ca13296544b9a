"""The model card (``README.md``) of a saved DNAF pipeline folder, for the Hugging Face Hub: YAML
metadata (library, task, tags, base models, licence) and a body built only from files: the
folder's ``model_index.json``, the run's recorded config, a ``metrics.json`` and a sample grid.
Every number in it is read from those files; what was not given, the card says is missing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from huggingface_hub import ModelCard, ModelCardData

from dnaf.core.errors import DataError, UsageError
from dnaf.io.atomic import atomic_write
from dnaf.models.checkpoints import SD15_REPO, SWIN_REPO
from dnaf.models.config import ModelConfig
from dnaf.models.saving import read_model_index
from dnaf.reports.table import markdown_table

CARD_FILE = "README.md"
RUN_CONFIG = "config.resolved.yaml"
"""What ``dnaf train`` writes in its run folder, beside ``model/``."""
TAGS = ["pose-guided-person-image-synthesis", "pose-transfer", "person-image-generation", "dnaf"]
SD15_LICENCE = "creativeml-openrail-m"
CODE_LICENCE = "mit"
"""dnaf's own licence: the demo's weights are trained from scratch on generated pictures."""
DATASET_NAMES = {
    "deepfashion-csv": "DeepFashion In-shop Clothes Retrieval",
    "deepfashion-nted": "DeepFashion In-shop Clothes Retrieval",
    "market": "Market-1501",
}


@dataclass(frozen=True)
class CardSources:
    """What a card is built from, beside the model folder itself."""

    repo_id: str
    """owner/name the card tells users to load."""
    metrics: dict | None = None
    """A metrics.json document (``dnaf evaluate``), or None: the card then says none was given."""
    run_config: dict | None = None
    """The training run's resolved config (``config.resolved.yaml``), or None."""
    dataset: str | None = None
    """The dataset (a key of the config's ``datasets:``) the model was trained on."""
    grid: str | None = None
    """File name of a sample picture inside the folder."""

    @property
    def trained_on(self) -> str | None:
        """The dataset: as given, else the metrics document's."""
        return self.dataset or (self.metrics or {}).get("dataset")

    @property
    def dataset_config(self) -> dict | None:
        """The dataset's ``datasets:`` entry in the run config, when both are known."""
        return ((self.run_config or {}).get("datasets") or {}).get(self.trained_on or "")


def read_metrics(path: Path) -> dict:
    """A metrics.json document, checked for what the card's table reads."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read the metrics document {path}: {error}") from None
    missing = [key for key in ("dataset", "method", "protocol", "counts") if key not in document]
    if missing:
        raise DataError(f"{path} is not a dnaf metrics.json (missing {', '.join(missing)}); `dnaf evaluate` writes one")
    return document


def read_run_config(path: Path) -> dict:
    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DataError(f"cannot read the training config {path}: {error}") from None


def base_models(model: ModelConfig) -> list[str]:
    """Hub ids of the pretrained models the saved weights start from; none for the tiny base."""
    if model.base != "pretrained":
        return []
    return [SD15_REPO, SWIN_REPO] if model.injectors else [SD15_REPO]


def card_metadata(model: ModelConfig) -> ModelCardData:
    pretrained = model.base == "pretrained"
    return ModelCardData(
        library_name="diffusers",
        pipeline_tag="image-to-image",
        tags=TAGS + (["stable-diffusion", "t2i-adapter"] if pretrained else ["demo"]),
        base_model=base_models(model) or None,
        license=SD15_LICENCE if pretrained else CODE_LICENCE,
    )


def _yaml_block(data: dict) -> str:
    return "```yaml\n" + yaml.safe_dump(data, sort_keys=False) + "```"


def _what_it_is(index: dict, model: ModelConfig) -> str:
    height, width = index["image_size"]
    added = ["a T2I-Adapter on the target skeleton"]
    if model.injectors:
        added.append("cross-attention injectors reading a Swin encoding of the source")
    if model.noise_aware:
        added.append("noise-aware self-attention that also reads the noised source")
    if model.base == "pretrained":
        base = f"Base: a frozen Stable Diffusion 1.5 UNet and VAE ({SD15_REPO}), in latent space"
        base += f"; Swin-B ({SWIN_REPO}) encodes the source." if model.injectors else "."
    else:
        base = (
            "Base: small networks trained from scratch in pixel space. This is dnaf's CPU demonstration model, "
            "not a model of real photographs."
        )
    return (
        'A DNAF model ("Diffusion with Noise-Aware Feature for Pose-Guided Person Image Synthesis", ICME 2024) '
        f"trained with dnaf {index.get('dnaf_version', 'unknown')}: given a photo of a person and a target pose, it "
        f"generates that person in the pose, at {height}x{width} pixels. {base} Added: {'; '.join(added)}."
    )


def _dataset_section(sources: CardSources) -> str:
    if sources.trained_on is None:
        return "Not recorded: the card was written without the dataset's name (`dnaf push-to-hub --dataset`)."
    dataset = sources.dataset_config
    if dataset is None:
        return f"`{sources.trained_on}` (its settings were not in the given training config)."
    height, width = dataset["image_size"]
    if dataset.get("synthetic") is not None:
        kind = "dnaf's generated synthetic people (no photographs of real people)"
    else:
        kind = DATASET_NAMES.get(dataset["format"], dataset["format"])
    return f"`{sources.trained_on}`: {kind}, images of {height}x{width} pixels (layout `{dataset['format']}`)."


def _training_section(index: dict, sources: CardSources) -> str:
    lines = [
        f"Saved settings (`model_index.json`): image size {index['image_size']}, skeletons drawn at "
        f"{index['skeleton_size']}, default guidance `{index['guidance_mode']}` (pose scale {index['pose_scale']}, "
        f"appearance scale {index['appearance_scale']}).",
        "",
        "Model (`model:` section):",
        "",
        _yaml_block(index["model_config"]),
        "",
    ]
    dataset = sources.trained_on
    experiment = ((sources.run_config or {}).get("experiments") or {}).get(dataset or "")
    if sources.run_config is None:
        lines.append(f"No training record was given (`dnaf train` writes `{RUN_CONFIG}` beside `model/`).")
    elif experiment is None:
        lines.append(f"The training config holds no experiment `{dataset}`: its `train:` section is not shown.")
    else:
        if experiment.get("model") != index["model_config"]:
            lines += ["Note: the recorded run config's `model:` section differs from the saved model's (above).", ""]
        lines += [f"Training (`experiments.{dataset}.train` of the run's `{RUN_CONFIG}`):", ""]
        lines.append(_yaml_block(experiment["train"]))
    return "\n".join(lines)


def _results_section(metrics: dict | None) -> str:
    if metrics is None:
        return "No evaluation results were given when this card was written: no metrics are reported."
    lines = []
    if metrics.get("meaningful") is False:
        lines += ["**These numbers are not meaningful** (the metrics document says so; see the warnings).", ""]
    lines.append(markdown_table([metrics]))
    return "\n".join(lines)


def _loading_section(repo_id: str) -> str:
    return f"""Needs the `dnaf` Python package, which defines the pipeline's components (diffusers' own
`DiffusionPipeline.from_pretrained` refuses components of another package when loading from the Hub):

```python
import torch
from PIL import Image

from dnaf.pipeline import DNAFPipeline

pipe = DNAFPipeline.from_pretrained("{repo_id}")  # downloads the safetensors snapshot, then loads it
source = Image.open("person.png")
pose = Image.open("skeleton.png")  # a drawn skeleton, or (18, 2) keypoints in [0, 1] with NaN = missing
image = pipe(source_image=source, pose=pose, num_inference_steps=50, generator=torch.Generator().manual_seed(0))
image.images[0].save("moved.png")
```

Or download it into a folder first: `dnaf download-model {repo_id} --out models/dnaf`."""


def _licence_section(model: ModelConfig, sources: CardSources) -> str:
    if model.base == "pretrained":
        lines = [
            f"The UNet and VAE are Stable Diffusion v1.5's ({SD15_REPO}), under the CreativeML OpenRAIL-M licence: "
            "its use restrictions apply to this model and to the images it generates, and must be passed on to "
            "anyone it is shared with."
        ]
        if model.injectors:
            lines.append(f"The appearance encoder starts from Swin-B ({SWIN_REPO}, Apache-2.0).")
    else:
        lines = ["Trained from scratch by dnaf (MIT licence); no pretrained weights are included."]
    if sources.dataset_config is None or sources.dataset_config.get("synthetic") is None:
        lines.append(
            "The terms of the training data also apply: DeepFashion and Market-1501, for instance, are distributed "
            "for research, not for commercial use; check them before any other use."
        )
    return "\n\n".join(lines)


def model_card(folder: Path, sources: CardSources) -> ModelCard:
    """The card of the pipeline folder ``folder``; raises NotAModelError when it is not one."""
    index = read_model_index(folder)
    model = ModelConfig.model_validate(index["model_config"])
    if sources.metrics is not None and sources.dataset not in (None, sources.metrics["dataset"]):
        raise UsageError(f"the metrics are of dataset {sources.metrics['dataset']!r}, the model of {sources.dataset!r}")
    sections = [
        f"# DNAF: {sources.repo_id.split('/')[-1]}",
        _what_it_is(index, model),
        "## Dataset",
        _dataset_section(sources),
        "## Training configuration",
        _training_section(index, sources),
        "## Results",
        _results_section(sources.metrics),
    ]
    if sources.grid is not None:
        sections += ["## Samples", f"![samples generated by this model]({sources.grid})"]
    sections += ["## How to load it", _loading_section(sources.repo_id)]
    sections += ["## Licences", _licence_section(model, sources)]
    body = "\n\n".join(sections) + "\n"
    return ModelCard(f"---\n{card_metadata(model).to_yaml()}\n---\n\n{body}")


def write_model_card(folder: Path, sources: CardSources) -> Path:
    """Write ``folder/README.md`` (atomically) and return its path."""
    path = Path(folder) / CARD_FILE
    card = model_card(folder, sources)
    with atomic_write(path) as handle:
        handle.write(str(card))
    return path
