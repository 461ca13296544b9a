"""Training on a tiny model and the small demo dataset: outputs, resume, two processes."""

import csv
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from dnaf.config import Config, train_setup
from dnaf.config_files import load_config
from dnaf.training.trainer import Trainer, TrainPaths

from .training_launch import launch_training

TINY_RUN = {
    "model": {"base": "tiny", "space": "pixel", "adapter_res_blocks": 1, "train_unet": True},
    "train": {
        "resolution": [32, 24], "batch_size": 4, "max_steps": 6, "learning_rate": 0.001, "warmup_steps": 2,
        "ema_decay": 0.9, "mixed_precision": "no", "prediction_type": "sample", "num_workers": 0, "log_every": 1,
        "checkpoint_every": 3, "keep_checkpoints": 2, "validate_every": 6, "validation_pairs": 2,
        "validation_steps": 2, "hflip": 0.5,
    },
    "sample": {"steps": 2, "batch_size": 3, "guidance": "appearance"},
}  # fmt: skip


def tiny_config(**train) -> Config:
    run = json.loads(json.dumps(TINY_RUN))
    run["train"].update(train)
    return load_config([], json.dumps({"experiments": {"demo": run}}))


def _paths(small_demo_csv, demo_index_dir, out):
    return TrainPaths(index=demo_index_dir, root=small_demo_csv, poses=out.parent / "poses", out=out)


def _weights(model_dir):
    return {
        part: load_file(next((model_dir / part).glob("*.safetensors")))
        for part in ("adapter", "injectors", "unet", "appearance_encoder")
    }


def test_training_writes_weights_checkpoints_log_and_grids(small_demo_csv, demo_index_dir, tmp_path):
    from dnaf.pipeline import DNAFPipeline, make_sampler

    out = tmp_path / "run"
    trainer = Trainer(train_setup(tiny_config(), "demo"), _paths(small_demo_csv, demo_index_dir, out))
    trainer.run()
    # the configured prediction type reaches the validation sampler and the saved scheduler
    assert make_sampler("ddim", trainer.scheduler).config.prediction_type == "sample"
    assert DNAFPipeline.from_pretrained(out / "model").scheduler.config.prediction_type == "sample"
    assert (out / "model" / "model_index.json").is_file()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-0000003", "step-0000006"]
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert all(r["loss"] > 0 and r["samples_per_s"] > 0 for r in log)
    rows = list(csv.DictReader((out / "train_log.csv").open()))  # the same records, for `dvc plots`
    assert [(int(r["step"]), float(r["loss"])) for r in rows] == [(r["step"], r["loss"]) for r in log]
    assert (out / "loss.png").is_file() and (out / "validation" / "step-0000006.png").is_file()
    assert (out / "config.resolved.yaml").is_file()
    assert not list(out.rglob("*.bin")) and not list(out.rglob("*.pt")) and not list(out.rglob("*.pkl"))


def test_an_interrupted_run_resumes_to_the_same_weights(small_demo_csv, demo_index_dir, tmp_path):
    # 6 batches an epoch: the step-7 checkpoint is one batch into the second epoch
    config = tiny_config(max_steps=9, checkpoint_every=7, validate_every=9)
    whole = tmp_path / "whole"
    Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, whole)).run()

    resumed = tmp_path / "resumed"
    Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, resumed)).run()
    # as if the process died after the step-7 checkpoint: later state gone, a half-written
    # checkpoint left behind
    shutil.rmtree(resumed / "checkpoints" / "step-0000009")
    shutil.rmtree(resumed / "model")
    (resumed / "checkpoints" / ".step-0000009.partial").mkdir()
    Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, resumed)).run()

    log = [json.loads(line)["step"] for line in (resumed / "train_log.jsonl").read_text().splitlines()]
    assert log == list(range(1, 10))
    expected, actual = _weights(whole / "model"), _weights(resumed / "model")
    for part in expected:
        assert expected[part].keys() == actual[part].keys()
        for name in expected[part]:
            assert torch.equal(expected[part][name], actual[part][name]), f"{part}.{name}"


def test_resume_refuses_a_checkpoint_of_another_model(small_demo_csv, demo_index_dir, tmp_path):
    out = tmp_path / "run"
    Trainer(train_setup(tiny_config(), "demo"), _paths(small_demo_csv, demo_index_dir, out)).run()
    run = json.loads(json.dumps(TINY_RUN))
    run["model"]["tiny"] = {"swin_absolute_positions": False, "swin_embed_dim": 16}  # the demo's: True, 32
    run["train"]["max_steps"] = 9
    changed = load_config([], json.dumps({"experiments": {"demo": run}}))
    with pytest.raises(ValueError, match="does not fit the configured model") as error:
        Trainer(train_setup(changed, "demo"), _paths(small_demo_csv, demo_index_dir, out)).run()
    message = str(error.value)
    assert "step-0000006" in message and "position_embeddings: not in the configured model" in message
    assert "shape (32,) in the checkpoint, (16,) configured" in message


def _launch_two_processes(small_demo_csv, demo_index_dir, poses, out, record):
    """`dnaf train` on two real ranks (gloo on CPU), recording each rank's draws of noise."""
    run = json.loads(json.dumps(TINY_RUN))
    return launch_training(2, small_demo_csv, demo_index_dir, poses, out, run, record)[0]


@pytest.mark.slow
def test_two_processes_draw_their_own_noise_and_resume_bit_exactly(small_demo_csv, demo_index_dir, tmp_path):
    from dnaf.pipeline import DNAFPipeline

    whole = tmp_path / "whole"
    draws = _launch_two_processes(small_demo_csv, demo_index_dir, tmp_path / "poses", whole, tmp_path / "draws")
    progress = json.loads((whole / "checkpoints" / "step-0000006" / "progress.json").read_text())
    assert progress["processes"] == 2  # two real ranks, not two independent runs
    assert len(draws[0]) == len(draws[1]) == 2 * 6
    for mine, theirs in zip(draws[0], draws[1], strict=True):  # each rank its own timesteps and noises
        assert mine["timesteps"] != theirs["timesteps"] and mine["noise"] != theirs["noise"]

    # as if both processes died after the step-3 checkpoint: resume from it in a fresh folder
    resumed = tmp_path / "resumed"
    (resumed / "checkpoints").mkdir(parents=True)
    shutil.copytree(whole / "checkpoints" / "step-0000003", resumed / "checkpoints" / "step-0000003")
    again = _launch_two_processes(small_demo_csv, demo_index_dir, tmp_path / "poses", resumed, tmp_path / "again")
    for rank in (0, 1):  # the resumed steps 4-6 draw what the uninterrupted run drew
        assert again[rank] == draws[rank][2 * 3 :]
    expected, actual = _weights(whole / "model"), _weights(resumed / "model")
    for part in expected:
        for name in expected[part]:
            assert torch.equal(expected[part][name], actual[part][name]), f"{part}.{name}"
    pipeline = DNAFPipeline.from_pretrained(resumed / "model")
    assert sum(p.numel() for p in pipeline.adapter.parameters()) > 0


def test_frozen_modules_stay_in_eval_mode_through_validation(small_demo_csv, demo_index_dir, tmp_path, monkeypatch):
    from dnaf.training.step import DiffusionLoss

    run = json.loads(json.dumps(TINY_RUN))
    run["model"].update(train_unet=False, train_swin=False)  # frozen, as on the pretrained base
    run["train"].update(validate_every=2, max_steps=4, checkpoint_every=4)
    config = load_config([], json.dumps({"experiments": {"demo": run}}))
    trainer = Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, tmp_path / "run"))
    model = trainer.model
    assert model.appearance.backbone.config.drop_path_rate > 0  # stochastic depth would fire in train mode
    seen = []
    forward = DiffusionLoss.forward

    def recording(self, batch, latents=None):
        seen.append({
            "frozen": [m.training for part in (model.unet, model.appearance) for m in part.modules()],
            "trainable": [m.training for part in model.trainable_modules() for m in part.modules()],
        })  # fmt: skip
        return forward(self, batch, latents)

    monkeypatch.setattr(DiffusionLoss, "forward", recording)
    trainer.run()
    assert len(seen) == 4  # steps 3 and 4 come after the validation of step 2
    for step in seen:
        assert not any(step["frozen"]) and all(step["trainable"])
    tokens = [model.appearance_tokens(torch.zeros(1, 3, 32, 24))[1] for _ in range(2)]
    assert torch.equal(*tokens)  # the frozen Swin computes the same thing every time


def test_the_published_model_keeps_the_frozen_parts_at_full_precision(small_demo_csv, demo_index_dir, tmp_path):
    """Under bf16 mixed precision the frozen UNet and Swin train cast to bf16; the saved pipeline
    holds their float32 weights, bit for bit those they were built with, and the trained parts as
    trained. (The cast is made here as ``_cast_frozen_parts`` makes it: accelerate's state is one
    per process and the other tests set it to no mixed precision.)"""
    from dnaf.models.build import build_tiny

    run = json.loads(json.dumps(TINY_RUN))
    run["model"]["train_unet"] = False
    setup = train_setup(load_config([], json.dumps({"experiments": {"demo": run}})), "demo")
    trainer = Trainer(setup, _paths(small_demo_csv, demo_index_dir, tmp_path / "run"))
    for module in trainer.model.frozen_modules():
        module.to(torch.bfloat16)
    with torch.no_grad():
        for p in trainer.model.adapter.parameters():
            p.add_(1.0)
    published = trainer._published()
    built, _ = build_tiny(setup.model, setup.resolution, seed=setup.train.seed)
    for mine, reference in ((published.unet, built.unet), (published.appearance_encoder, built.appearance)):
        state, expected = mine.state_dict(), reference.state_dict()
        assert all(state[k].dtype == torch.float32 and torch.equal(state[k], expected[k]) for k in expected)
    assert published.adapter is trainer.model.adapter and published.injectors is trainer.model.injectors
