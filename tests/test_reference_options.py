"""The texture study's forms of the reference: clean (t = 0), late steps only, the source's pose."""

import pytest
import torch

from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler
from dnaf.training.config import TrainConfig
from dnaf.training.step import DiffusionLoss

from .model_helpers import SIZE, inputs, randomise_injectors, tiny_model

ROUTES = torch.tensor([1, 0, -1])


def _model(**options):
    model, scheduler = tiny_model("pixel", **options)
    randomise_injectors(model)
    return model, scheduler


def _predict(model, sample, t, skeletons, reference, ref_t, sources, ref_residuals=None):
    with torch.no_grad():
        return model(sample, t, model.pose_residuals(skeletons), ROUTES, reference, ref_t,
                     model.appearance_tokens(sources), ref_residuals)  # fmt: skip


def test_the_clean_reference_is_the_source_itself_at_t0():
    model, scheduler = _model(reference_timestep="clean")
    source = torch.randn(3, 48, 8, 6)
    rows, steps = model.reference_rows(source, torch.randn_like(source), torch.tensor([999, 500, 3]), scheduler)
    assert torch.equal(rows, source) and steps.tolist() == [0, 0, 0]
    same, _ = _model()
    noise = torch.randn_like(source)
    rows, steps = same.reference_rows(source, noise, torch.tensor([999, 500, 3]), scheduler)
    # the paper's form: sqrt(a_t) x0 + sqrt(1 - a_t) eps, written out
    a = scheduler.alphas_cumprod[torch.tensor([999, 500, 3])].view(-1, 1, 1, 1)
    torch.testing.assert_close(rows, a.sqrt() * source + (1 - a).sqrt() * noise)
    assert steps.tolist() == [999, 500, 3]


@pytest.mark.parametrize("reference_grad", [True, False])
def test_rows_past_reference_until_read_no_reference_rows_before_it_do(reference_grad):
    late, _ = _model(reference_until=300, reference_grad=reference_grad)
    always, _ = _model()
    sources, skeletons, sample, reference, _ = inputs(late, batch=3)
    t = torch.tensor([700, 100, 100])
    calls = []
    late.unet.register_forward_pre_hook(lambda module, args: calls.append(args[0].shape[0]))
    with torch.enable_grad():  # training: the detached form's record pass runs under a graph only
        out = late(sample, t, late.pose_residuals(skeletons), ROUTES, reference, t,
                   late.appearance_tokens(sources)).detach()  # fmt: skip
    # only reference row 0 is read (by row 1): reference row 1, whose reader is at t = 700, is left out
    assert calls == ([3 + 1] if reference_grad else [1, 3])
    # row 0 (t = 700) as if no reference were given at all; row 1 (t = 100) as the usual form
    without = _predict(late, sample, t, skeletons, None, None, sources)
    usual = _predict(always, sample, t, skeletons, reference, t, sources)
    torch.testing.assert_close(out[0], without[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[1], usual[1], atol=1e-5, rtol=0)
    assert (out[1] - without[1]).abs().max() > 1e-3  # the reference did act on row 1
    torch.testing.assert_close(out[2], without[2], atol=1e-5, rtol=0)  # no style: nothing read


@pytest.mark.parametrize("reference_grad", [True, False])
def test_the_source_pose_reaches_the_reference_rows_in_both_forms(reference_grad):
    model, _ = _model(reference_pose="source", reference_grad=reference_grad)
    sources, skeletons, sample, reference, t = inputs(model, batch=3)
    source_skeletons = torch.rand(3, 3, *SIZE, generator=torch.Generator().manual_seed(5))
    posed = model.reference_pose(source_skeletons)
    with torch.enable_grad():  # the detached form runs its record pass only under a graph
        out = model(sample, t, model.pose_residuals(skeletons), ROUTES, reference, t,
                    model.appearance_tokens(sources), posed).detach()  # fmt: skip
    zero = _predict(model, sample, t, skeletons, reference, t, sources)
    joint = _predict(model, sample, t, skeletons, reference, t, sources, posed)
    torch.testing.assert_close(out, joint, atol=1e-5, rtol=0)  # detached = joint values
    assert (joint[:2] - zero[:2]).abs().max() > 1e-4  # the styled rows see the posed reference
    torch.testing.assert_close(joint[2], zero[2], atol=1e-5, rtol=0)  # the unstyled one does not
    with pytest.raises(ValueError, match="needs the sources' skeletons"):
        model.reference_pose(None)
    assert _model()[0].reference_pose(source_skeletons) is None  # the paper's form: zero residuals


def test_a_training_step_uses_each_form():
    batch = {"source": torch.rand(2, 3, *SIZE) * 2 - 1, "target": torch.rand(2, 3, *SIZE) * 2 - 1,
             "skeleton": torch.rand(2, 3, *SIZE), "source_skeleton": torch.rand(2, 3, *SIZE)}  # fmt: skip
    losses = {}
    for name, options in {"paper": {}, "clean": {"reference_timestep": "clean"},
                          "posed": {"reference_pose": "source"}}.items():  # fmt: skip
        model, scheduler = _model(**options)
        torch.manual_seed(0)
        losses[name] = DiffusionLoss(model.train(), scheduler, TrainConfig(style_dropout=0, pose_dropout=0))(batch)
        losses[name].backward()
        losses[name] = float(losses[name].detach())
        assert all(p.grad is not None for p in model.adapter.parameters())
    assert len({round(v, 6) for v in losses.values()}) == 3  # the same draws, three forms


def test_the_sampler_leaves_the_reference_rows_out_where_none_is_read():
    model, scheduler = _model(reference_until=300)
    calls = []
    model.unet.register_forward_pre_hook(lambda module, args: calls.append(args[0].shape[0]))
    sources, skeletons, *_ = inputs(model, batch=2)
    pipeline = DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE)
    pipeline(sources, skeletons, 10, Guidance("none"), [torch.Generator().manual_seed(i) for i in range(2)])
    timesteps = pipeline.scheduler.timesteps.tolist()
    assert calls == [2 if t >= 300 else 4 for t in timesteps]  # 2 main rows, + 2 reference rows late


def test_a_posed_reference_model_samples_from_the_source_pose_and_asks_for_it():
    model, scheduler = _model(reference_pose="source")
    sources, skeletons, *_ = inputs(model, batch=2)
    pipeline = DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE)

    def sample(source_pose):
        generators = [torch.Generator().manual_seed(i) for i in range(2)]
        return pipeline(sources, skeletons, 4, Guidance("none"), generators, output_type="pt",
                        source_pose=source_pose).images  # fmt: skip

    first, second = sample(skeletons.flip(0)), sample(skeletons)
    assert (first - second).abs().max() > 1e-4  # the source pose reaches the reference rows
    torch.testing.assert_close(sample(skeletons), second)
    with pytest.raises(ValueError, match="needs the sources' skeletons"):
        sample(None)
