"""DNAFPipeline on tiny models: guidance rows, per-image seeds, pose at every step, samplers."""

import pytest
import torch

from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler

from .model_helpers import SIZE, inputs, randomise_injectors, tiny_model


@pytest.fixture
def setup():
    model, scheduler = tiny_model("pixel")
    randomise_injectors(model)
    sources, skeletons, *_ = inputs(model, batch=3, seed=5)
    return model, scheduler, sources, skeletons


def _generators(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def _record_unet_calls(model):
    calls = []

    def hook(module, args, kwargs):
        residuals = kwargs["down_intrablock_additional_residuals"]
        calls.append((args[0].shape[0], len(residuals), float(sum(r.abs().sum() for r in residuals))))

    return calls, model.unet.register_forward_pre_hook(hook, with_kwargs=True)


@pytest.mark.parametrize(
    ("guidance", "rows_per_image"),
    [(Guidance("none"), 2), (Guidance("appearance"), 3), (Guidance("disentangled", 2.0, 2.0), 4),
     (Guidance("disentangled", 1.0, 2.0), 3)],
)  # fmt: skip
def test_one_reference_row_serves_every_guidance_branch(setup, guidance, rows_per_image):
    model, scheduler, sources, skeletons = setup
    calls, handle = _record_unet_calls(model)
    DNAFPipeline(model, make_sampler("ddim", scheduler))(sources, skeletons, _generators([0, 1, 2]), 4, guidance)
    handle.remove()
    assert [rows for rows, _, _ in calls] == [rows_per_image * 3] * 4


def test_disentangled_guidance_with_pose_scale_1_skips_the_empty_row_and_keeps_the_images(setup):
    """e(0,0) + 1 (e(p,0) - e(0,0)) + w_s (e(p,s) - e(p,0)) = e(p,0) + w_s (e(p,s) - e(p,0)): the
    e(0,0) row has weight 0. Its four-row form, run with w_p a hair above 1, gives the same images."""
    model, scheduler, sources, skeletons = setup
    pipeline = DNAFPipeline(model, make_sampler("ddim", scheduler))
    three_rows = pipeline(sources, skeletons, _generators([4, 5, 6]), 4, Guidance("disentangled", 1.0, 2.0))
    appearance = pipeline(sources, skeletons, _generators([4, 5, 6]), 4, Guidance("appearance", 1.0, 2.0))
    assert torch.equal(three_rows, appearance)
    calls, handle = _record_unet_calls(model)
    four_rows = pipeline(sources, skeletons, _generators([4, 5, 6]), 4, Guidance("disentangled", 1.0 + 1e-6, 2.0))
    handle.remove()
    assert calls[0][0] == 4 * 3  # the full form still runs the e(0,0) row
    torch.testing.assert_close(four_rows, three_rows, atol=1e-4, rtol=0)
    other = pipeline(sources, skeletons, _generators([4, 5, 6]), 4, Guidance("disentangled", 2.0, 2.0))
    assert (other - three_rows).abs().max() > 1e-3  # and w_p does act when it is not 1


def test_pose_residuals_reach_the_unet_at_every_step(setup):
    model, scheduler, sources, skeletons = setup
    calls, handle = _record_unet_calls(model)
    DNAFPipeline(model, make_sampler("ddim", scheduler))(sources, skeletons, _generators([0, 1, 2]), 5)
    handle.remove()
    levels = len(model.unet.config.block_out_channels)
    assert len(calls) == 5 and all(n == levels and magnitude > 0 for _, n, magnitude in calls)


def test_an_image_depends_on_its_inputs_and_seed_not_on_the_batch(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = DNAFPipeline(model, make_sampler("ddim", scheduler))
    batch = pipeline(sources, skeletons, _generators([7, 8, 9]), 4)
    alone = pipeline(sources[1:2], skeletons[1:2], _generators([8]), 4)
    torch.testing.assert_close(batch[1:2], alone, atol=1e-5, rtol=0)  # per-row kernels, summation order only
    again = pipeline(sources, skeletons, _generators([7, 8, 9]), 4)
    assert torch.equal(batch, again)
    other_seed = pipeline(sources[1:2], skeletons[1:2], _generators([99]), 4)
    assert (other_seed - alone).abs().max() > 1e-2


def test_source_and_pose_change_the_generated_image(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = DNAFPipeline(model, make_sampler("ddim", scheduler))
    base = pipeline(sources, skeletons, _generators([1, 2, 3]), 3)
    assert (pipeline(sources.flip(0), skeletons, _generators([1, 2, 3]), 3) - base).abs().max() > 1e-3
    assert (pipeline(sources, skeletons.flip(0), _generators([1, 2, 3]), 3) - base).abs().max() > 1e-3


def test_dpm_solver_and_output_range(setup):
    model, scheduler, sources, skeletons = setup
    images = DNAFPipeline(model, make_sampler("dpmsolver++", scheduler))(sources, skeletons, _generators([0, 1, 2]), 3)
    assert images.shape == (3, 3, *SIZE) and images.min() >= -1 and images.max() <= 1


def test_unknown_sampler_is_rejected(setup):
    with pytest.raises(ValueError, match="unknown sampler"):
        make_sampler("euler", setup[1])


def test_half_precision_sampling_runs_the_denoiser_in_it_and_stays_close(setup):
    """bfloat16 (float16 takes the same path; on a CPU both are emulated and slow, so one is run)."""
    model, scheduler, sources, skeletons = setup
    sources, skeletons = sources[:1], skeletons[:1]
    seen = []
    handle = model.unet.register_forward_hook(lambda module, args, out: seen.append(out.sample.dtype))
    full = DNAFPipeline(model, make_sampler("ddim", scheduler))(sources, skeletons, _generators([1]), 2)
    half = DNAFPipeline(model, make_sampler("ddim", scheduler), "bfloat16")
    images = half(sources, skeletons, _generators([1]), 2)
    handle.remove()
    assert seen == [torch.float32] * 2 + [torch.bfloat16] * 2
    assert images.dtype == torch.float32 and torch.equal(images, half(sources, skeletons, _generators([1]), 2))
    difference = (images - full).abs()
    assert 0 < difference.mean() < 0.02  # bfloat16 keeps 8 bits of mantissa: about 0.4 % per value


def test_a_float32_pipeline_keeps_the_callers_autocast(setup):
    """Training validates under its mixed precision with a bfloat16 UNet and float32 injectors: the
    pipeline must not switch the caller's autocast off (it did, and the rehearsal's validation failed)."""
    model, scheduler, sources, skeletons = setup
    model.unet.to(torch.bfloat16)
    pipeline = DNAFPipeline(model, make_sampler("ddim", scheduler))
    with torch.autocast("cpu", torch.bfloat16):
        images = pipeline(sources[:1], skeletons[:1], _generators([1]), 1)
    assert images.dtype == torch.float32 and images.shape == (1, 3, *SIZE)
