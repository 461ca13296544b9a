"""DNAFPipeline on tiny models: guidance rows, per-image seeds, pose at every step, samplers,
the diffusers call (inputs, outputs, latents, callbacks), attention processors, offload."""

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler, UniPCMultistepScheduler
from diffusers.models.attention_processor import AttnProcessor2_0
from PIL import Image

from dnaf.models.injectors import AppearanceInjectors
from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler
from dnaf.pose.render import render_skeleton, skeleton_at

from .model_helpers import SIZE, inputs, randomise_injectors, tiny_model


@pytest.fixture
def setup():
    model, scheduler = tiny_model("pixel")
    randomise_injectors(model)
    sources, skeletons, *_ = inputs(model, batch=3, seed=5)
    return model, scheduler, sources, skeletons


def _generators(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def _pipeline(model, scheduler, sampler="ddim"):
    pipeline = DNAFPipeline.from_model(model, make_sampler(sampler, scheduler), SIZE)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _images(pipeline, sources, skeletons, seeds, steps, guidance=None, **options):
    """(B, 3, H, W) in [-1, 1], as the model decodes them."""
    out = pipeline(sources, skeletons, steps, guidance, _generators(seeds), output_type="pt", **options)
    return out.images * 2 - 1


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
    _images(_pipeline(model, scheduler), sources, skeletons, [0, 1, 2], 4, guidance)
    handle.remove()
    assert [rows for rows, _, _ in calls] == [rows_per_image * 3] * 4


def test_disentangled_guidance_with_pose_scale_1_skips_the_empty_row_and_keeps_the_images(setup):
    """e(0,0) + 1 (e(p,0) - e(0,0)) + w_s (e(p,s) - e(p,0)) = e(p,0) + w_s (e(p,s) - e(p,0)): the
    e(0,0) row has weight 0. Its four-row form, run with w_p a hair above 1, gives the same images."""
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    three_rows = _images(pipeline, sources, skeletons, [4, 5, 6], 4, Guidance("disentangled", 1.0, 2.0))
    appearance = _images(pipeline, sources, skeletons, [4, 5, 6], 4, Guidance("appearance", 1.0, 2.0))
    assert torch.equal(three_rows, appearance)
    calls, handle = _record_unet_calls(model)
    four_rows = _images(pipeline, sources, skeletons, [4, 5, 6], 4, Guidance("disentangled", 1.0 + 1e-6, 2.0))
    handle.remove()
    assert calls[0][0] == 4 * 3  # the full form still runs the e(0,0) row
    torch.testing.assert_close(four_rows, three_rows, atol=1e-4, rtol=0)
    other = _images(pipeline, sources, skeletons, [4, 5, 6], 4, Guidance("disentangled", 2.0, 2.0))
    assert (other - three_rows).abs().max() > 1e-3  # and w_p does act when it is not 1
    assert torch.equal(_images(pipeline, sources, skeletons, [4, 5, 6], 4), three_rows)  # the config's default


def test_pose_residuals_reach_the_unet_at_every_step(setup):
    model, scheduler, sources, skeletons = setup
    calls, handle = _record_unet_calls(model)
    _images(_pipeline(model, scheduler), sources, skeletons, [0, 1, 2], 5)
    handle.remove()
    levels = len(model.unet.config.block_out_channels)
    assert len(calls) == 5 and all(n == levels and magnitude > 0 for _, n, magnitude in calls)


def test_an_image_depends_on_its_inputs_and_seed_not_on_the_batch(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    batch = _images(pipeline, sources, skeletons, [7, 8, 9], 4)
    alone = _images(pipeline, sources[1:2], skeletons[1:2], [8], 4)
    torch.testing.assert_close(batch[1:2], alone, atol=1e-5, rtol=0)  # per-row kernels, summation order only
    again = _images(pipeline, sources, skeletons, [7, 8, 9], 4)
    assert torch.equal(batch, again)
    other_seed = _images(pipeline, sources[1:2], skeletons[1:2], [99], 4)
    assert (other_seed - alone).abs().max() > 1e-2


def test_source_and_pose_change_the_generated_image(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    base = _images(pipeline, sources, skeletons, [1, 2, 3], 3)
    assert (_images(pipeline, sources.flip(0), skeletons, [1, 2, 3], 3) - base).abs().max() > 1e-3
    assert (_images(pipeline, sources, skeletons.flip(0), [1, 2, 3], 3) - base).abs().max() > 1e-3


def test_dpm_solver_and_output_range(setup):
    model, scheduler, sources, skeletons = setup
    images = _pipeline(model, scheduler, "dpmsolver++")(sources, skeletons, 3, generator=_generators([0, 1, 2]),
                                                         output_type="pt").images  # fmt: skip
    assert images.shape == (3, 3, *SIZE) and images.min() >= 0 and images.max() <= 1


def test_unknown_sampler_is_rejected(setup):
    with pytest.raises(ValueError, match="unknown sampler"):
        make_sampler("euler", setup[1])


def test_half_precision_sampling_runs_the_denoiser_in_it_and_stays_close(setup):
    """bfloat16 (float16 takes the same path; on a CPU both are emulated and slow, so one is run)."""
    model, scheduler, sources, skeletons = setup
    sources, skeletons = sources[:1], skeletons[:1]
    seen = []
    handle = model.unet.register_forward_hook(lambda module, args, out: seen.append(out.sample.dtype))
    pipeline = _pipeline(model, scheduler)
    full = _images(pipeline, sources, skeletons, [1], 2)
    images = _images(pipeline, sources, skeletons, [1], 2, precision="bfloat16")
    handle.remove()
    assert seen == [torch.float32] * 2 + [torch.bfloat16] * 2
    assert images.dtype == torch.float32
    assert torch.equal(images, _images(pipeline, sources, skeletons, [1], 2, precision="bfloat16"))
    difference = (images - full).abs()
    assert 0 < difference.mean() < 0.02  # bfloat16 keeps 8 bits of mantissa: about 0.4 % per value


def test_a_float32_pipeline_keeps_the_callers_autocast(setup):
    """Training validates under its mixed precision with a bfloat16 UNet and float32 injectors: the
    pipeline must not switch the caller's autocast off (it did, and the rehearsal's validation failed)."""
    model, scheduler, sources, skeletons = setup
    model.unet.to(torch.bfloat16)
    pipeline = _pipeline(model, scheduler)
    with torch.autocast("cpu", torch.bfloat16):
        images = _images(pipeline, sources[:1], skeletons[:1], [1], 1)
    assert images.dtype == torch.float32 and images.shape == (1, 3, *SIZE)


# -- the diffusers call -----------------------------------------------------------------------
def test_every_output_type_gives_the_same_images(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    run = {kind: pipeline(sources, skeletons, 2, generator=_generators([3, 4, 5]), output_type=kind).images
           for kind in ("pil", "np", "pt", "latent")}  # fmt: skip
    decoded = model.decode(run["latent"])  # pixel space: the sample is the image folded in patches
    assert run["latent"].shape == (3, 3 * model.config.pixel_patch**2, SIZE[0] // model.config.pixel_patch,
                                   SIZE[1] // model.config.pixel_patch)  # fmt: skip
    torch.testing.assert_close(run["pt"], (decoded / 2 + 0.5).clamp(0, 1), atol=0, rtol=0)
    np.testing.assert_array_equal(run["np"], run["pt"].permute(0, 2, 3, 1).numpy())
    assert [image.size for image in run["pil"]] == [(SIZE[1], SIZE[0])] * 3
    np.testing.assert_array_equal(np.stack([np.asarray(i) for i in run["pil"]]), (run["np"] * 255).round())
    as_tuple = pipeline(sources, skeletons, 2, generator=_generators([3, 4, 5]), output_type="pt", return_dict=False)
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], run["pt"])
    with pytest.raises(ValueError, match="output_type"):
        pipeline(sources, skeletons, 2, output_type="jpeg")


def test_pictures_arrays_tensors_and_keypoints_are_the_same_inputs(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    source = ((sources[0] + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()  # (H, W, 3) uint8
    keypoints = np.full((18, 2), np.nan)
    keypoints[[0, 1, 2, 5, 8, 11]] = [[0.5, 0.1], [0.5, 0.25], [0.35, 0.25], [0.65, 0.25], [0.4, 0.6], [0.6, 0.6]]
    skeleton = skeleton_at(render_skeleton(keypoints, (2 * SIZE[0], 2 * SIZE[1])), SIZE)
    pipeline.register_to_config(skeleton_size=[2 * SIZE[0], 2 * SIZE[1]])

    def run(source_image, pose):
        return pipeline(source_image, pose, 2, generator=_generators([1]), output_type="pt").images

    expected = run(torch.from_numpy(source).permute(2, 0, 1).float()[None] / 255.0 * 2 - 1,
                   torch.from_numpy(skeleton.copy()).permute(2, 0, 1).float()[None] / 255)  # fmt: skip
    assert torch.equal(run(Image.fromarray(source), Image.fromarray(skeleton)), expected)
    assert torch.equal(run([source], skeleton), expected)
    assert torch.equal(run(source.astype(np.float32) / 255, keypoints), expected)
    assert torch.equal(run(source, [keypoints]), expected)
    # one source serves several poses
    two = pipeline(source, np.stack([keypoints, keypoints[::-1]]), 2, generator=_generators([1, 1]),
                   output_type="pt").images  # fmt: skip
    assert two.shape == (2, 3, *SIZE)
    torch.testing.assert_close(two[:1], expected, atol=1e-5, rtol=0)  # summation order of a batch of 2 only
    with pytest.raises(ValueError, match="got 2 source images and 3 poses"):
        pipeline(sources[:2], skeletons, 1)
    with pytest.raises(ValueError, match=r"a tensor must be \(3, 32, 24\)"):
        pipeline(sources[:, :, :16], skeletons, 1)


def test_given_latents_replace_the_first_draw_and_keep_the_reference_noise(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    drawn = _images(pipeline, sources[:2], skeletons[:2], [3, 4], 2)
    shape = model.encode(sources[:1]).shape[1:]
    latents = torch.stack([torch.randn(shape, generator=g) for g in _generators([3, 4])])
    assert torch.equal(_images(pipeline, sources[:2], skeletons[:2], [3, 4], 2, latents=latents), drawn)
    other = _images(pipeline, sources[:2], skeletons[:2], [3, 4], 2, latents=latents.flip(0))
    assert (other - drawn).abs().max() > 1e-2
    with pytest.raises(ValueError, match="latents must have shape"):
        _images(pipeline, sources[:2], skeletons[:2], [3, 4], 2, latents=latents[:1])


def test_the_step_end_callback_sees_and_may_replace_the_latents(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    seen = []

    def record(pipe, i, t, tensors):
        seen.append((pipe is pipeline, i, int(t), tuple(tensors["latents"].shape)))
        return tensors

    plain = _images(pipeline, sources[:1], skeletons[:1], [2], 3)
    assert torch.equal(_images(pipeline, sources[:1], skeletons[:1], [2], 3, callback_on_step_end=record), plain)
    timesteps = [int(t) for t in pipeline.scheduler.timesteps]
    assert seen == [(True, i, t, (1, 3, *SIZE)) for i, t in enumerate(timesteps)]
    zeroed = pipeline(sources[:1], skeletons[:1], 3, generator=_generators([2]), output_type="latent",
                      callback_on_step_end=lambda pipe, i, t, tensors: {"latents": tensors["latents"] * 0})  # fmt: skip
    assert torch.equal(zeroed.images, torch.zeros_like(zeroed.images))
    with pytest.raises(ValueError, match="'prompt_embeds'"):
        pipeline(sources[:1], skeletons[:1], 1, callback_on_step_end=record,
                 callback_on_step_end_tensor_inputs=["prompt_embeds"])  # fmt: skip


# -- schedulers ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [DPMSolverMultistepScheduler, EulerDiscreteScheduler, UniPCMultistepScheduler])
def test_any_diffusers_scheduler_swaps_in_and_ddim_swaps_back(setup, kind):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    ddim = pipeline.scheduler
    before = _images(pipeline, sources[:2], skeletons[:2], [5, 6], 3)
    pipeline.scheduler = kind.from_config(pipeline.scheduler.config)
    assert pipeline.config.scheduler == ("diffusers", kind.__name__)
    images = _images(pipeline, sources[:2], skeletons[:2], [5, 6], 3)
    assert images.shape == (2, 3, *SIZE) and torch.isfinite(images).all()
    assert (images - before).abs().max() > 1e-3
    pipeline.scheduler = type(ddim).from_config(pipeline.scheduler.config)
    assert torch.equal(_images(pipeline, sources[:2], skeletons[:2], [5, 6], 3), before)


@pytest.mark.parametrize("kind", ["ddim", EulerDiscreteScheduler])
def test_the_reference_row_enters_the_unet_as_training_noised_it(setup, kind):
    """Training feeds the UNet sqrt(a_t) x0 + sqrt(1 - a_t) noise; Euler's add_noise gives x0 +
    sigma noise, so the reference must be scaled like the main rows (it was not, once)."""
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    if kind != "ddim":
        pipeline.scheduler = kind.from_config(pipeline.scheduler.config)
    rows = []
    handle = model.unet.register_forward_pre_hook(lambda module, args: rows.append((args[0], args[1])))
    _images(pipeline, sources[:1], skeletons[:1], [8], 2, Guidance("none"))
    handle.remove()
    sample, timesteps = rows[0]  # [main row | reference row] of the first step
    generator = torch.Generator().manual_seed(8)
    torch.randn(sample.shape[1:], generator=generator)  # the initial noise, then the reference noise
    reference_noise = torch.randn(sample.shape[1:], generator=generator)
    alpha = scheduler.alphas_cumprod[round(float(timesteps[1]))]
    expected = alpha.sqrt() * model.encode(sources[:1])[0] + (1 - alpha).sqrt() * reference_noise
    torch.testing.assert_close(sample[1], expected, atol=1e-4, rtol=1e-4)


# -- attention processors, hooks, offload -------------------------------------------------------
def test_constructing_twice_installs_the_processors_and_hooks_once(setup):
    model, scheduler, sources, skeletons = setup
    first = _images(_pipeline(model, scheduler), sources[:1], skeletons[:1], [1], 2)
    second = _pipeline(model, scheduler)
    routings = {id(p.routing) for n, p in model.unet.attn_processors.items() if n.endswith("attn1.processor")}
    assert routings == {id(second.denoiser.routing)} == {id(model.routing)}
    blocks = [m for name, m in model.unet.named_modules() if name in model.injectors.config.block_names]
    assert blocks and all(len(block._forward_pre_hooks) == 1 for block in blocks)
    assert torch.equal(_images(second, sources[:1], skeletons[:1], [1], 2), first)


def test_a_replaced_component_is_composed_in_and_the_old_hooks_removed(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    before = _images(pipeline, sources[:1], skeletons[:1], [1], 2)
    trained = pipeline.injectors
    pipeline.injectors = AppearanceInjectors.from_config(trained.config)  # zero outputs: no injection
    assert pipeline.denoiser.injectors is pipeline.injectors and pipeline.config.injectors[1] == "AppearanceInjectors"
    blocks = [m for name, m in model.unet.named_modules() if name in trained.config.block_names]
    assert all(len(block._forward_pre_hooks) == 1 for block in blocks)
    assert (_images(pipeline, sources[:1], skeletons[:1], [1], 2) - before).abs().max() > 1e-3
    pipeline.injectors = trained
    assert torch.equal(_images(pipeline, sources[:1], skeletons[:1], [1], 2), before)


def test_attention_slicing_and_xformers_are_refused_and_replaced_processors_caught(setup):
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    with pytest.raises(ValueError, match="noise-aware self-attention"):
        pipeline.enable_attention_slicing()
    with pytest.raises(ValueError, match="noise-aware self-attention"):
        pipeline.enable_xformers_memory_efficient_attention()
    pipeline.disable_attention_slicing()  # nothing to undo
    before = _images(pipeline, sources[:1], skeletons[:1], [1], 1)
    with pytest.raises(ValueError, match="Cannot call `set_default_attn_processor`"):
        pipeline.unet.set_default_attn_processor()  # diffusers itself keeps custom processors
    pipeline.unet.set_attn_processor(AttnProcessor2_0())
    with pytest.raises(ValueError, match="processors were replaced"):
        pipeline(sources[:1], skeletons[:1], 1)
    again = _pipeline(model, scheduler)  # a new composition installs them again
    assert torch.equal(_images(again, sources[:1], skeletons[:1], [1], 1), before)


def test_model_cpu_offload_runs_and_keeps_the_images(setup):
    """On this CPU-only machine the offload device is the CPU itself: the hooks are set up and
    run (each component moved on its forward), the images are the same."""
    model, scheduler, sources, skeletons = setup
    pipeline = _pipeline(model, scheduler)
    before = _images(pipeline, sources[:2], skeletons[:2], [1, 2], 2)
    pipeline.enable_model_cpu_offload(device="cpu")
    hooked = {name for name, module in pipeline.components.items() if hasattr(module, "_hf_hook")}
    assert hooked == {"unet", "adapter", "appearance_encoder"}  # injectors and prompt stay put
    assert torch.equal(_images(pipeline, sources[:2], skeletons[:2], [1, 2], 2), before)


@pytest.mark.parametrize("space", ["pixel", "latent"])
def test_ddim_ends_on_the_clean_picture_in_pixel_space_only(space):
    """The last DDIM step, written out: x0 = (x - sqrt(1 - a_t) eps) / sqrt(a_t); pixel space
    returns it (alpha 1), latent space sqrt(a_0) x0 + sqrt(1 - a_0) eps (diffusers' SD1.5 end)."""
    from diffusers import DDPMScheduler

    training = DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    sampler = make_sampler("ddim", training, space)
    sampler.set_timesteps(10)
    t = sampler.timesteps[-1]
    x, eps = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    a_t = training.alphas_cumprod[t]
    x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    a_end = torch.tensor(1.0) if space == "pixel" else training.alphas_cumprod[0]
    expected = a_end.sqrt() * x0 + (1 - a_end).sqrt() * eps
    torch.testing.assert_close(sampler.step(eps, t, x).prev_sample, expected)
