"""Resume exactness on one process: the sample order and the random slots (dnaf.training.order),
gradient accumulation over an epoch that does not divide into steps, a stop on a signal, the loss
scaler, and what a resume refuses."""

import json
import os
import shutil
import signal

import numpy as np
import pytest
import torch
from accelerate.data_loader import BatchSamplerShard

from dnaf.cli import main
from dnaf.config import train_setup
from dnaf.core.errors import EXIT_RESUME, ConfigError
from dnaf.training.order import BatchLayout, GlobalOrder, elastic_accumulation
from dnaf.training.step import DiffusionLoss
from dnaf.training.trainer import Trainer

from .test_training import TINY_RUN, _paths, _weights, tiny_config

PAIRS = 24  # training pairs of the small demo, both directions


def _assert_same_weights(expected_model, actual_model):
    expected, actual = _weights(expected_model), _weights(actual_model)
    for part in expected:
        assert expected[part].keys() == actual[part].keys()
        for name in expected[part]:
            assert torch.equal(expected[part][name], actual[part][name]), f"{part}.{name}"


@pytest.mark.parametrize("processes", [1, 2, 3])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_the_global_order_shards_as_accelerate_does(processes, batch_size):
    """Each process's batches equal accelerate's sharding of the epoch's batches (its
    BatchSamplerShard, the reference), over the whole steps of the epoch."""
    layout = BatchLayout(batch_size, processes, accumulation=2)
    permutation = np.random.default_rng([7, 3]).permutation(PAIRS).tolist()
    whole = layout.steps_per_epoch(PAIRS) * layout.global_batch
    batches = [permutation[i : i + batch_size] for i in range(0, whole, batch_size)]
    for process in range(processes):
        order = GlobalOrder(PAIRS, seed=7, layout=layout, process=process)
        order.start(epoch=3, position=0)
        reference = list(BatchSamplerShard(batches, num_processes=processes, process_index=process))
        assert list(order) == reference
        assert len(order) == len(reference) == whole // layout.forward_pairs
        # from a position: the rest of the same sequence
        order.start(epoch=3, position=layout.global_batch)
        assert list(order) == reference[layout.accumulation :]


def test_a_step_takes_the_same_pairs_on_any_layout_with_its_global_batch():
    def steps(layout):
        taken = {}
        for process in range(layout.processes):
            order = GlobalOrder(PAIRS, seed=1, layout=layout, process=process)
            for forward, batch in enumerate(order):
                step, within = divmod(forward, layout.accumulation)
                taken.setdefault(step, {})[layout.slot(process, within)] = batch
        return [[pair for slot in sorted(slots) for pair in slots[slot]] for step, slots in sorted(taken.items())]

    reference = steps(BatchLayout(2, 1, 4))  # global batch 8: 3 steps an epoch
    assert len(reference) == 3 and sorted(sum(reference, [])) == sorted(set(sum(reference, [])))
    for layout in (BatchLayout(2, 2, 2), BatchLayout(2, 4, 1), BatchLayout(1, 2, 4), BatchLayout(4, 2, 1)):
        assert steps(layout) == reference, layout


def test_elastic_accumulation_keeps_the_global_batch_or_says_what_to_set(tmp_path):
    assert elastic_accumulation(16, batch_size=8, processes=1, checkpoint=tmp_path) == 2
    assert elastic_accumulation(16, batch_size=8, processes=2, checkpoint=tmp_path) == 1
    assert elastic_accumulation(16, batch_size=4, processes=2, checkpoint=tmp_path) == 2
    with pytest.raises(ConfigError, match=r"resume on a process count that divides it \(1, 2, 4, 8, 16\)"):
        elastic_accumulation(16, batch_size=8, processes=3, checkpoint=tmp_path)
    with pytest.raises(ConfigError, match="set train.batch_size to one of 1, 2, 4$"):
        elastic_accumulation(16, batch_size=8, processes=4, checkpoint=tmp_path)  # 8 x 4 > 16


def test_accumulation_over_an_epoch_of_odd_batches_resumes_bit_exactly(small_demo_csv, demo_index_dir, tmp_path):
    """24 pairs in batches of 8 make 3 batches an epoch: with gradient accumulation 2 a step is 16
    pairs, one step an epoch. Killed after step 3 (epoch 2), the resumed run ends as the whole one."""
    config = tiny_config(batch_size=8, gradient_accumulation=2, max_steps=5, checkpoint_every=3, validate_every=5)
    whole = tmp_path / "whole"
    Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, whole)).run()
    progress = json.loads((whole / "checkpoints" / "step-0000003" / "progress.json").read_text())
    assert progress == {
        "step": 3, "epoch": 2, "position": 16, "processes": 1, "batch_size": 8, "gradient_accumulation": 2
    }  # fmt: skip
    assert {p.name for p in (whole / "checkpoints" / "step-0000003").glob("random_*.json")} == {
        "random_0.json",
        "random_1.json",
    }  # one random stream per slot

    resumed = tmp_path / "resumed"
    (resumed / "checkpoints").mkdir(parents=True)
    shutil.copytree(whole / "checkpoints" / "step-0000003", resumed / "checkpoints" / "step-0000003")
    Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, resumed)).run()
    _assert_same_weights(whole / "model", resumed / "model")


def test_a_signal_stops_after_the_current_step_with_a_checkpoint(small_demo_csv, demo_index_dir, tmp_path, monkeypatch):
    """SIGTERM arrives in the first forward pass of step 3 (of 2 per step): the step is finished,
    a checkpoint written, and `dnaf train` exits with EXIT_RESUME; running it again ends with the
    weights of a run never stopped."""
    run = json.loads(json.dumps(TINY_RUN))
    run["train"].update(gradient_accumulation=2, batch_size=2, max_steps=6, checkpoint_every=100, validate_every=6)
    config = tiny_config(**run["train"])
    whole = tmp_path / "whole"
    Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, whole)).run()

    stopped = tmp_path / "stopped"
    forward, calls = DiffusionLoss.forward, []

    def interrupted(self, batch, latents=None):
        calls.append(1)
        if len(calls) == 5:  # step 3's first forward pass
            os.kill(os.getpid(), signal.SIGTERM)
        return forward(self, batch, latents)

    monkeypatch.setattr(DiffusionLoss, "forward", interrupted)
    arguments = [
        "train", "--dataset", "demo", "--root", str(small_demo_csv), "--index", str(demo_index_dir),
        "--poses", str(tmp_path / "poses"), "--out", str(stopped), "--config-json",
        json.dumps({"experiments": {"demo": run}}),
    ]  # fmt: skip
    handler = signal.getsignal(signal.SIGTERM)
    assert main(arguments) == EXIT_RESUME
    assert signal.getsignal(signal.SIGTERM) is handler  # the handlers are given back
    assert len(calls) == 6  # the step was finished, no further one begun
    assert [p.name for p in (stopped / "checkpoints").iterdir()] == ["step-0000003"]
    assert not (stopped / "model").exists()
    monkeypatch.setattr(DiffusionLoss, "forward", forward)
    assert main(arguments) == 0
    _assert_same_weights(whole / "model", stopped / "model")
    log = [json.loads(line)["step"] for line in (stopped / "train_log.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3, 4, 5, 6]
    starts = [json.loads(line) for line in (stopped / "starts.jsonl").read_text().splitlines()]
    assert [(s["event"], s["step"]) for s in starts] == [("start", 0), ("stopped", 3), ("start", 3), ("finished", 6)]
    assert starts[1]["signal"] == "SIGTERM" and starts[2]["processes"] == 1 and len(starts[2]["hosts"]) == 1


def test_the_loss_scaler_state_is_checkpointed_and_restored(small_demo_csv, demo_index_dir, tmp_path):
    """fp16 training keeps a GradScaler (accelerate makes one only on a GPU; a CPU scaler stands
    in for it here, scaling the loss in the same loop): its scale and growth count survive a
    resume instead of starting over."""
    config = tiny_config(max_steps=3, checkpoint_every=3, validate_every=3)
    out = tmp_path / "run"
    trainer = Trainer(train_setup(config, "demo"), _paths(small_demo_csv, demo_index_dir, out))
    trainer.accelerator.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=5)
    trainer.run()
    saved = dict(json.loads((out / "checkpoints" / "step-0000003" / "grad_scaler.json").read_text())["__dict__"])
    assert saved["scale"] == 2.0**10 and saved["_growth_tracker"] == 3  # 3 steps without an overflow

    again = Trainer(train_setup(tiny_config(max_steps=5), "demo"), _paths(small_demo_csv, demo_index_dir, out))
    again.accelerator.scaler = resumed = torch.amp.GradScaler("cpu", init_scale=2.0**16, growth_interval=5)
    again.run()
    # steps 4 and 5 continue the count: the fifth unskipped step doubles the scale
    assert resumed.get_scale() == 2.0**11 and resumed.state_dict()["_growth_tracker"] == 0


def test_a_checkpoint_of_an_older_dnaf_is_refused_with_what_to_do(small_demo_csv, demo_index_dir, tmp_path):
    out = tmp_path / "run"
    Trainer(train_setup(tiny_config(), "demo"), _paths(small_demo_csv, demo_index_dir, out)).run()
    (out / "checkpoints" / "step-0000006" / "progress.json").write_text(json.dumps({"step": 6, "processes": 1}))
    with pytest.raises(ValueError, match="older dnaf .* delete the checkpoints to train from scratch"):
        Trainer(train_setup(tiny_config(max_steps=9), "demo"), _paths(small_demo_csv, demo_index_dir, out)).run()


def test_a_resume_that_cannot_keep_the_global_batch_says_what_to_set(small_demo_csv, demo_index_dir, tmp_path):
    out = tmp_path / "run"
    Trainer(train_setup(tiny_config(), "demo"), _paths(small_demo_csv, demo_index_dir, out)).run()  # 4 x 1 x 1
    with pytest.raises(ConfigError, match="global batch of 4 pairs .* set train.batch_size to one of 1, 2, 4"):
        Trainer(
            train_setup(tiny_config(max_steps=9, batch_size=3), "demo"), _paths(small_demo_csv, demo_index_dir, out)
        ).run()
