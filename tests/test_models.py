"""Behaviour of the DNAF denoiser on tiny models (CPU)."""

import pytest
import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import AttnProcessor2_0

from .model_helpers import SIZE, inputs, plain_unet, randomise_injectors, tiny_model

ATOL = 1e-5  # float32 on CPU: batched versus per-row kernels differ in summation order only


@pytest.fixture(params=["pixel", "latent"])
def model(request):
    return tiny_model(request.param)[0]


def _plain(model, sample, timesteps, residuals):
    text = model.prompt.embedding.expand(sample.shape[0], -1, -1)
    return plain_unet(model)(sample, timesteps, text, down_intrablock_additional_residuals=list(residuals)).sample


@torch.no_grad()
def test_without_style_equals_plain_unet_with_adapter(model):
    sources, skeletons, sample, _, t = inputs(model)
    residuals = model.pose_residuals(skeletons)
    none = torch.full((2,), -1)
    ours = model(sample, t, residuals, none)
    assert torch.equal(ours, _plain(model, sample, t, residuals))


@torch.no_grad()
def test_rows_with_style_dropped_equal_plain_rows_at_zero_init(model):
    sources, skeletons, sample, reference, t = inputs(model)
    residuals = model.pose_residuals(skeletons)
    tokens = model.appearance_tokens(sources)
    ours = model(sample, t, residuals, torch.tensor([0, -1]), reference, t, tokens)
    plain = _plain(model, sample, t, residuals)
    torch.testing.assert_close(ours[1], plain[1], atol=ATOL, rtol=0)
    assert not torch.allclose(ours[0], plain[0], atol=1e-3)  # the styled row does read its reference


class _TwoPass:
    """Reference implementation: run the reference rows alone, store each attn1's K and V, then
    run the main rows attending over [K; K_ref]."""

    def __init__(self):
        self.store, self.mode = {}, "record"

    def processor(self, name):
        def run(attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
            q = attn.to_q(hidden_states).unflatten(-1, (attn.heads, -1)).transpose(1, 2)
            k = attn.to_k(hidden_states).unflatten(-1, (attn.heads, -1)).transpose(1, 2)
            v = attn.to_v(hidden_states).unflatten(-1, (attn.heads, -1)).transpose(1, 2)
            if self.mode == "record":
                self.store[name] = (k, v)
            else:
                k_ref, v_ref = self.store[name]
                k, v = torch.cat([k, k_ref], dim=2), torch.cat([v, v_ref], dim=2)
            out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
            return attn.to_out[1](attn.to_out[0](out))

        return run


@torch.no_grad()
def test_batched_main_and_reference_rows_equal_a_two_pass_implementation():
    model = tiny_model("pixel", injectors=False)[0]
    sources, skeletons, sample, reference, t = inputs(model, batch=2)
    residuals = model.pose_residuals(skeletons)
    ours = model(sample, t, residuals, torch.tensor([1, 0]), reference, t)  # crossed on purpose

    unet = plain_unet(model)
    two_pass = _TwoPass()
    unet.set_attn_processor(
        {
            n: two_pass.processor(n) if n.endswith("attn1.processor") else AttnProcessor2_0()
            for n in unet.attn_processors
        }
    )
    text = model.prompt.embedding
    expected = []
    for row, ref in ((0, 1), (1, 0)):
        two_pass.mode = "record"
        unet(reference[ref : ref + 1], t[ref : ref + 1], text)
        two_pass.mode = "attend"
        rows = [r[row : row + 1] for r in residuals]
        expected.append(
            unet(sample[row : row + 1], t[row : row + 1], text, down_intrablock_additional_residuals=rows).sample
        )
    torch.testing.assert_close(ours, torch.cat(expected), atol=ATOL, rtol=0)


@torch.no_grad()
def test_source_and_pose_change_the_output(model):
    randomise_injectors(model)
    sources, skeletons, sample, reference, t = inputs(model)
    run = lambda src, sk, ref: model(  # noqa: E731
        sample, t, model.pose_residuals(sk), torch.tensor([0, 1]), ref, t, model.appearance_tokens(src)
    )
    base = run(sources, skeletons, reference)
    assert (run(sources.flip(0), skeletons, reference) - base).abs().max() > 1e-3  # other sources' tokens
    assert (run(sources, skeletons, reference.flip(0)) - base).abs().max() > 1e-3  # other noised sources
    assert (run(sources, skeletons.flip(0), reference) - base).abs().max() > 1e-3  # other poses


def test_gradients_reach_only_trainable_parameters():
    model, _ = tiny_model("latent")
    model.train()
    trainable = {id(p) for m in model.trainable_modules() for p in m.parameters()}
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if id(p) not in trainable}
    assert any(n.startswith("unet.") for n in frozen) and any(n.startswith("vae.") for n in frozen)
    sources, skeletons, sample, reference, t = inputs(model)
    prediction = model(
        sample, t, model.pose_residuals(skeletons), torch.tensor([0, 1]), reference, t, model.appearance_tokens(sources)
    )
    F.mse_loss(prediction, torch.randn_like(prediction)).backward()
    for name, p in model.named_parameters():
        if id(p) in trainable:
            continue
        assert p.grad is None, name
    assert all(p.grad is not None for p in model.adapter.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.injectors.parameters())
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    adapter_before = next(model.adapter.parameters()).detach().clone()
    optimizer.step()
    for name, p in model.named_parameters():
        if name in frozen:
            assert torch.equal(p, frozen[name]), name
    assert not torch.equal(next(model.adapter.parameters()), adapter_before)


def test_the_pretrained_recipe_trains_adapter_and_injectors_only():
    model, _ = tiny_model("latent")
    names = {n.split(".")[0] for m in model.trainable_modules() for n, _ in m.named_parameters(prefix=type(m).__name__)}
    assert names == {"T2IAdapter", "AppearanceInjectors"}
    demo, _ = tiny_model("pixel", train_unet=True, train_swin=True)
    assert demo.unet in demo.trainable_modules() and demo.appearance in demo.trainable_modules()


def test_injectors_sit_before_every_transformer_block(model):
    blocks = [n for n, m in model.unet.named_modules() if type(m).__name__ == "Transformer2DModel"]
    assert list(model.injectors.config.block_names) == blocks
    assert len(model.injectors._handles) == len(blocks)
    assert all(i.attention.to_out[0].weight.abs().sum() == 0 for i in model.injectors.injectors.values())


def test_unet_state_dict_is_the_plain_one(model):
    assert set(model.unet.state_dict()) == set(plain_unet(model).state_dict())


@torch.no_grad()
@pytest.mark.parametrize("positions", [False, True])
def test_swin_absolute_positions_tell_where_a_patch_sits(positions):
    """A square moved by one Swin window: the same token without positions, another with them."""
    model, _ = tiny_model("pixel", tiny={"swin_absolute_positions": positions})
    embeddings = model.appearance.backbone.swin.embeddings.position_embeddings
    assert (embeddings is not None) == positions
    if positions:
        assert embeddings.shape == (1, (SIZE[0] // 4) * (SIZE[1] // 4), model.config.tiny.swin_embed_dim)
        embeddings.normal_(generator=torch.Generator().manual_seed(0))  # zero at initialisation
    images = torch.full((2, 3, *SIZE), 0.8)
    images[0, :, 8:12, 8:12] = -0.5  # Swin patch (2, 2)
    images[1, :, 16:20, 8:12] = -0.5  # patch (4, 2): same place in its window
    grid = model.appearance(images)[1].unflatten(1, (SIZE[0] // 4, SIZE[1] // 4))
    moved = (grid[0, 2, 2] - grid[1, 4, 2]).abs().max()
    assert (moved > 1e-3) if positions else (moved < 1e-5)
