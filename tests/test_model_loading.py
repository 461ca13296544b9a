"""Loading the base models from folders laid out like the real checkpoints, and saving/loading."""

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import dnaf.pipeline
from dnaf.config import Config
from dnaf.core.version import __version__
from dnaf.models.build import load_pretrained
from dnaf.models.checkpoints import MissingCheckpointError
from dnaf.models.config import ModelConfig, TinyConfig
from dnaf.models.rehearsal import write_stable_diffusion, write_swin
from dnaf.models.saving import NotAModelError, OldModelFormatError, model_image_size, weight_differences
from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler

from .model_helpers import SIZE, inputs, tiny_model, write_old_format


def write_checkpoint_folders(root):
    """Tiny weights written in the real formats: SD1.5 in diffusers layout, Swin as the Hub's
    image-classification checkpoint (the rehearsal's writers)."""
    tiny = TinyConfig()
    sd, swin = root / "stable-diffusion-v1-5", root / "swin-base-patch4-window7-224"
    write_stable_diffusion(tiny, sd)
    write_swin(tiny, swin)
    return ModelConfig(base="pretrained", stable_diffusion=sd, swin=swin)


@pytest.fixture
def pretrained_config(tmp_path):
    return write_checkpoint_folders(tmp_path)


def test_loads_from_folders_in_the_real_formats(pretrained_config):
    model, scheduler = load_pretrained(pretrained_config)
    assert model.latent_factor == 2 and scheduler.config.beta_schedule == "scaled_linear"
    assert model.prompt.embedding.shape == (1, 32, 32)
    sources, skeletons, sample, reference, t = inputs(model)
    with torch.no_grad():
        out = model(
            sample,
            t,
            model.pose_residuals(skeletons),
            torch.tensor([0, 1]),
            reference,
            t,
            model.appearance_tokens(sources),
        )
    assert out.shape == sample.shape and torch.isfinite(out).all()


@pytest.mark.parametrize(
    "missing",
    [
        ["unet/diffusion_pytorch_model.safetensors"],
        ["tokenizer/merges.txt", "SWIN:config.json"],
        ["scheduler/scheduler_config.json"],
    ],
)
def test_each_missing_piece_is_named_in_one_error(pretrained_config, missing):
    for item in missing:
        folder = pretrained_config.swin if item.startswith("SWIN:") else pretrained_config.stable_diffusion
        (folder / item.removeprefix("SWIN:")).unlink()
    with pytest.raises(MissingCheckpointError) as error:
        load_pretrained(pretrained_config)
    message = str(error.value)
    for item in missing:
        folder = pretrained_config.swin if item.startswith("SWIN:") else pretrained_config.stable_diffusion
        assert str(folder / item.removeprefix("SWIN:")) in message
    assert "dnaf download-models" in message


def test_pickle_weights_are_refused_with_a_hint(pretrained_config):
    weights = pretrained_config.stable_diffusion / "vae" / "diffusion_pytorch_model.safetensors"
    weights.rename(weights.with_suffix(".bin"))
    with pytest.raises(MissingCheckpointError, match=r"Only pickle \(\.bin\) weights were found"):
        load_pretrained(pretrained_config)


def _sample(pipeline, output_type="pt", seed=0):
    sources, skeletons, *_ = inputs(pipeline.denoiser, seed=3)
    generators = [torch.Generator().manual_seed(seed + i) for i in range(2)]
    pipeline.set_progress_bar_config(disable=True)
    return pipeline(sources, skeletons, 3, Guidance("disentangled"), generators, output_type=output_type).images


def _same(first, second) -> bool:
    if isinstance(first, list):  # PIL images
        return all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, second, strict=True))
    return np.array_equal(np.asarray(first), np.asarray(second))


def _perturbed(model, modules=None):
    """Trained-looking weights: every parameter moved off its initial value."""
    with torch.no_grad():
        for module in modules or [model]:
            for p in module.parameters():
                p.add_(torch.randn_like(p) * 0.01)
    return model


@pytest.mark.parametrize(
    ("space", "tiny"), [("pixel", {}), ("latent", {}), ("pixel", {"swin_absolute_positions": True})]
)
def test_save_load_round_trip_is_bit_exact_for_every_output_type(tmp_path, space, tiny):
    model, scheduler = tiny_model(space, train_unet=True, tiny=tiny)
    pipeline = DNAFPipeline.from_model(_perturbed(model), make_sampler("ddim", scheduler), SIZE, (64, 48))
    pipeline.save_pretrained(tmp_path / "model")
    assert not list(tmp_path.glob(".model.*"))  # no staging folder left
    assert not list((tmp_path / "model").rglob("*.bin")) and list((tmp_path / "model").rglob("*.safetensors"))
    loaded = DNAFPipeline.from_pretrained(tmp_path / "model")
    assert loaded.config.image_size == list(SIZE) and loaded.config.skeleton_size == [64, 48]
    assert loaded.denoiser.config == model.config
    for output_type in ("pil", "np", "pt", "latent"):
        assert _same(_sample(pipeline, output_type), _sample(loaded, output_type)), output_type
    assert weight_differences(tmp_path / "model", tmp_path / "model") == []


def test_model_index_names_every_component_and_the_plain_settings(tmp_path):
    model, scheduler = tiny_model("pixel")
    DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE).save_pretrained(tmp_path / "model")
    index = json.loads((tmp_path / "model" / "model_index.json").read_text())
    assert index["_class_name"] == "DNAFPipeline"
    assert {name: index[name] for name in ("unet", "vae", "adapter", "appearance_encoder", "injectors", "prompt",
                                           "scheduler")} == {
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": [None, None],
        "adapter": ["diffusers", "T2IAdapter"],
        "appearance_encoder": ["dnaf.models.appearance", "AppearanceEncoder"],
        "injectors": ["dnaf.models.injectors", "AppearanceInjectors"],
        "prompt": ["dnaf.models.prompt", "PromptEmbedding"], "scheduler": ["diffusers", "DDIMScheduler"],
    }  # fmt: skip
    assert index["image_size"] == list(SIZE) and index["model_config"] == model.config.model_dump(mode="json")
    assert (index["guidance_mode"], index["pose_scale"], index["appearance_scale"]) == ("disentangled", 1.0, 2.0)
    assert index["dnaf_version"] == __version__
    folders = sorted(p.name for p in (tmp_path / "model").iterdir() if p.is_dir())
    assert folders == ["adapter", "appearance_encoder", "injectors", "prompt", "scheduler", "unet"]
    # the prompt is a persistent buffer: stored, and back on load
    stored = load_file(tmp_path / "model" / "prompt" / "diffusion_pytorch_model.safetensors")
    assert torch.equal(stored["embedding"], model.prompt.embedding)


def test_a_model_without_injectors_saves_and_loads_without_them(tmp_path):
    model, scheduler = tiny_model("pixel", injectors=False)
    pipeline = DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE)
    pipeline.save_pretrained(tmp_path / "model")
    loaded = DNAFPipeline.from_pretrained(tmp_path / "model")
    assert loaded.injectors is None and loaded.appearance_encoder is None
    assert _same(_sample(pipeline), _sample(loaded))


def test_a_hub_repository_is_downloaded_then_loaded_locally(tmp_path, monkeypatch):
    model, scheduler = tiny_model("pixel")
    pipeline = DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE)
    pipeline.save_pretrained(tmp_path / "snapshot")
    calls = []

    def download(repo_id, **options):
        calls.append((repo_id, options))
        return str(tmp_path / "snapshot")

    monkeypatch.setattr(dnaf.pipeline, "snapshot_download", download)
    loaded = DNAFPipeline.from_pretrained("someone/dnaf-demo", revision="v1")
    assert calls == [("someone/dnaf-demo", {"ignore_patterns": dnaf.pipeline.PICKLE_PATTERNS, "revision": "v1"})]
    assert _same(_sample(pipeline), _sample(loaded))


def test_an_old_format_folder_is_refused_with_the_conversion_which_keeps_the_images(tmp_path, run_cli):
    model, scheduler = tiny_model("pixel", train_unet=True, pixel_patch=2)
    _perturbed(model)
    old = tmp_path / "old"
    write_old_format(model, scheduler, old, SIZE)
    with pytest.raises(OldModelFormatError, match=f"dnaf convert-model --dataset NAME {old} NEW_FOLDER"):
        DNAFPipeline.from_pretrained(old)
    with pytest.raises(OldModelFormatError):
        model_image_size(old)
    result = run_cli("convert-model", "--dataset", "demo", old, tmp_path / "new")
    assert result.code == 0, result.text
    converted = DNAFPipeline.from_pretrained(tmp_path / "new")
    assert converted.config.skeleton_size == list(Config().datasets.demo.skeleton_size)
    in_memory = DNAFPipeline.from_model(model, make_sampler("ddim", scheduler, "pixel"), SIZE)
    assert _same(_sample(in_memory), _sample(converted))
    with pytest.raises(NotAModelError, match="no model_index.json"):
        DNAFPipeline.from_pretrained(tmp_path / "missing")


def test_round_trip_on_the_pretrained_base_holds_every_component(tmp_path, pretrained_config):
    """Self-contained, as diffusers pipelines are: the frozen SD1.5 and Swin-B too (about 4 GB for
    the real ones), so a shared folder needs nothing else."""
    model, scheduler = load_pretrained(pretrained_config)
    _perturbed(model, model.trainable_modules())
    pipeline = DNAFPipeline.from_model(model.eval(), make_sampler("ddim", scheduler), SIZE)
    pipeline.save_pretrained(tmp_path / "model")
    stored = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert stored == ["adapter", "appearance_encoder", "injectors", "model_index.json", "prompt", "scheduler",
                      "unet", "vae"]  # fmt: skip
    for folder in (pretrained_config.stable_diffusion, pretrained_config.swin):  # not read again
        shutil.rmtree(folder)
    loaded = DNAFPipeline.from_pretrained(tmp_path / "model")
    assert _same(_sample(pipeline), _sample(loaded))


def test_download_models_offline_fails_with_a_clear_message(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = {"stable_diffusion": str(tmp_path / "sd"), "swin": str(tmp_path / "swin")}
    config = json.dumps({"experiments": {"deepfashion": {"model": model}}})
    result = run_cli("download-models", "--config-json", config)
    assert result.code == 1
    assert "could not download the base models" in result.text and "Hugging Face Hub" in result.text
