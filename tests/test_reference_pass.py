"""The noise-aware reference pass: the detached form gives the joint form's values without a
gradient through the reference, and a UNet call reads no tensor value on the host per layer."""

import contextlib

import pytest
import torch
import torch.nn.functional as F

from .model_helpers import inputs, randomise_injectors, tiny_model

ATOL = 1e-5
ROUTES = torch.tensor([1, -1, 0])  # crossed, one row without style


def _model(reference_grad: bool):
    model = tiny_model("pixel", reference_grad=reference_grad)[0]
    randomise_injectors(model)
    return model


def _step(model, reference_requires_grad=False):
    sources, skeletons, sample, reference, t = inputs(model, batch=3)
    reference = reference.clone().requires_grad_(reference_requires_grad)
    prediction = model(
        sample, t, model.pose_residuals(skeletons), ROUTES, reference, t, model.appearance_tokens(sources)
    )
    F.mse_loss(prediction, torch.zeros_like(prediction)).backward()
    return prediction.detach(), reference


def test_the_detached_reference_gives_the_joint_values_without_its_gradient():
    joint, detached = _model(True), _model(False)
    joint_out, joint_ref = _step(joint, reference_requires_grad=True)
    detached_out, detached_ref = _step(detached, reference_requires_grad=True)
    torch.testing.assert_close(detached_out, joint_out, atol=ATOL, rtol=0)
    assert joint_ref.grad is not None and joint_ref.grad.abs().sum() > 0
    assert detached_ref.grad is None  # nothing of the reference pass is in the graph
    # the reference rows carry no pose: the adapter learns the same in both forms ...
    for a, b in zip(joint.adapter.parameters(), detached.adapter.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-6, rtol=1e-4)
    # ... the injectors, which also act on the reference rows, lose that part of their gradient
    differences = [(a.grad - b.grad).abs().max() for a, b in
                   zip(joint.injectors.parameters(), detached.injectors.parameters(), strict=True)]  # fmt: skip
    assert max(differences) > 1e-6


def test_sampling_is_the_same_in_both_forms():
    joint, detached = _model(True), _model(False)
    with torch.no_grad():
        outputs = []
        for model in (joint, detached):
            sources, skeletons, sample, reference, t = inputs(model, batch=3)
            outputs.append(model(sample, t, model.pose_residuals(skeletons), ROUTES, reference, t,
                                 model.appearance_tokens(sources)))  # fmt: skip
    torch.testing.assert_close(outputs[0], outputs[1], atol=0, rtol=0)  # the same joint call


@contextlib.contextmanager
def _host_reads():
    """Counts the tensor methods that make the host wait for the device (on a GPU)."""
    counts = {}
    originals = {name: getattr(torch.Tensor, name) for name in ("nonzero", "any", "all", "item", "__bool__", "tolist")}

    def counted(name):
        def method(self, *args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return originals[name](self, *args, **kwargs)

        return method

    for name in originals:
        setattr(torch.Tensor, name, counted(name))
    try:
        yield counts
    finally:
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)


@pytest.mark.parametrize("reference_grad", [True, False])
def test_a_unet_call_reads_the_device_twice_whatever_its_depth(reference_grad):
    """Routing (main rows with and without a reference) and injection rows are computed once per
    call: three nonzero, none per layer (before: 49 reads on the two-level model, 70 on three)."""
    counts = []
    for levels in ((32, 64), (32, 64, 64)):
        model = tiny_model("pixel", reference_grad=reference_grad,
                           tiny={"unet_channels": levels, "attention_levels": [True] * len(levels)})[0]  # fmt: skip
        sources, skeletons, sample, reference, t = inputs(model, batch=3)
        residuals, tokens = model.pose_residuals(skeletons), model.appearance_tokens(sources)
        with _host_reads() as reads:
            model(sample, t, residuals, ROUTES, reference, t, tokens)
        counts.append(reads)
    assert counts[0] == counts[1]  # more layers, no more reads
    # the detached form's reference call adds the injection rows of the reference images
    assert counts[0] == {"nonzero": 3 if reference_grad else 4}
