"""Loading the base models from folders laid out like the real checkpoints, and saving/loading."""

import json

import pytest
import torch

from dnaf.models.build import load_pretrained
from dnaf.models.checkpoints import MissingCheckpointError
from dnaf.models.config import ModelConfig, TinyConfig
from dnaf.models.rehearsal import write_stable_diffusion, write_swin
from dnaf.models.saving import load_model, save_model
from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler

from .model_helpers import SIZE, inputs, tiny_model


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
    assert model.prompt_embedding.shape == (1, 32, 32)
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


def _sample(model, scheduler, seed=0):
    sources, skeletons, *_ = inputs(model, seed=3)
    pipeline = DNAFPipeline(model, make_sampler("ddim", scheduler))
    generators = [torch.Generator().manual_seed(seed + i) for i in range(2)]
    return pipeline(sources, skeletons, generators, num_inference_steps=3, guidance=Guidance("disentangled"))


@pytest.mark.parametrize(
    ("space", "tiny"), [("pixel", {}), ("latent", {}), ("pixel", {"swin_absolute_positions": True})]
)
def test_save_load_round_trip_is_bit_exact(tmp_path, space, tiny):
    model, scheduler = tiny_model(space, train_unet=True, tiny=tiny)
    with torch.no_grad():  # trained-looking weights everywhere
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    save_model(model, scheduler, tmp_path / "model", SIZE)
    assert not list(tmp_path.glob(".model.*"))  # no staging folder left
    assert not list((tmp_path / "model").rglob("*.bin")) and list((tmp_path / "model").rglob("*.safetensors"))
    loaded, loaded_scheduler = load_model(tmp_path / "model")
    assert torch.equal(_sample(model, scheduler), _sample(loaded.eval(), loaded_scheduler))


def test_round_trip_on_the_pretrained_base_stores_only_the_trained_parts(tmp_path, pretrained_config):
    model, scheduler = load_pretrained(pretrained_config)
    with torch.no_grad():
        for module in model.trainable_modules():
            for p in module.parameters():
                p.add_(torch.randn_like(p) * 0.01)
    save_model(model, scheduler, tmp_path / "model", SIZE)
    stored = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert stored == ["adapter", "dnaf_model.json", "injectors", "prompt_embedding.safetensors", "scheduler"]
    loaded, loaded_scheduler = load_model(tmp_path / "model")
    assert torch.equal(_sample(model.eval(), scheduler), _sample(loaded.eval(), loaded_scheduler))


def test_download_models_offline_fails_with_a_clear_message(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = {"stable_diffusion": str(tmp_path / "sd"), "swin": str(tmp_path / "swin")}
    config = json.dumps({"experiments": {"deepfashion": {"model": model}}})
    result = run_cli("download-models", "--config-json", config)
    assert result.code == 1
    assert "could not download the base models" in result.text and "Hugging Face Hub" in result.text
