"""Pose transfer and try-on on a tiny saved model: pose inputs, errors, masks, determinism."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from dnaf.applications.poses import PoseError, from_annotation_row, from_openpose_json
from dnaf.io.framing import fit_image
from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler

from .model_helpers import SIZE, inputs, randomise_injectors, save_tiny, tiny_model

rng = np.random.default_rng(0)
YS = [5 + k for k in range(18)]
XS = [3 + (k % 5) for k in range(18)]
XS[4] = -1  # a missing right wrist
YS[4] = -1


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, scheduler = tiny_model(pixel_patch=2)
    randomise_injectors(model)
    folder = tmp_path_factory.mktemp("model") / "model"
    return save_tiny(model, scheduler, folder)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    person = rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    Image.fromarray(person).save(folder / "person.png")
    Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(folder / "artwork.png")  # any shape
    mask = np.zeros(SIZE, np.uint8)
    mask[10:22, 6:18] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    document = {"people": [{"pose_keypoints_2d": [v for x, y in zip(XS, YS, strict=True)
                                                  for v in (x, y, 0.0 if x < 0 else 0.9)]}]}  # fmt: skip
    (folder / "pose.json").write_text(json.dumps(document))
    return folder


def test_pose_inputs_agree_and_bad_ones_are_named(tmp_path, pictures):
    from_json = from_openpose_json(pictures / "pose.json", SIZE)
    from_row = from_annotation_row(f"name.jpg: {YS}: {XS}", SIZE)
    np.testing.assert_array_equal(from_json, from_row)
    assert np.isnan(from_json[4]).all() and from_json[0] == pytest.approx([3 / SIZE[1], 5 / SIZE[0]])
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(PoseError, match="bad.json: not JSON"):
        from_openpose_json(bad, SIZE)
    bad.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 75}]}))
    with pytest.raises(PoseError, match="has 75 numbers = 25 keypoints; expected 18"):
        from_openpose_json(bad, SIZE)
    bad.write_text(json.dumps({"people": []}))
    with pytest.raises(PoseError, match="'people'\\[0\\], found none"):
        from_openpose_json(bad, SIZE)
    with pytest.raises(PoseError, match="the x list has 17 values; expected 18"):
        from_annotation_row(f"{YS}: {XS[:17]}", SIZE)


def test_fit_records_and_keeps_the_aspect():
    image = np.zeros((50, 70, 3), np.uint8)
    padded, record = fit_image(image, (32, 24), "pad")
    assert padded.shape == (32, 24, 3) and record["fit"] == "pad" and record["offset"][0] > 0
    assert (padded[0] == 255).all() and (padded[16, 12] == 0).all()  # white bands above and below
    cropped, record = fit_image(image, (32, 24), "crop")
    assert cropped.shape == (32, 24, 3) and (cropped == 0).all()


def test_inpainting_keeps_the_known_sample_outside_the_region():
    model, scheduler = tiny_model(pixel_patch=2)
    sources, skeletons, *_ = inputs(model, batch=1)
    known = torch.rand(1, 3, *SIZE) * 2 - 1
    region = torch.zeros(1, 1, *SIZE)
    region[..., 12:20, 8:14] = 1
    pipeline = DNAFPipeline.from_model(model, make_sampler("ddim", scheduler), SIZE)
    out = pipeline(sources, skeletons, 3, Guidance("none"), torch.Generator().manual_seed(0), inpaint_image=known,
                   mask_image=region, output_type="pt").images * 2 - 1  # fmt: skip
    outside = pipeline._region(region) == 0  # the region dilated by one 2x2 cell
    outside = outside.repeat_interleave(2, 2).repeat_interleave(2, 3).expand_as(out)
    torch.testing.assert_close(out[outside], known[outside], rtol=0, atol=1e-6)
    assert (out[0, :, 12:20, 8:14] - known[0, :, 12:20, 8:14]).abs().mean() > 0.05


def test_cli_transfer_each_pose_source_and_determinism(tmp_path, pictures, model_dir, run_cli):
    import pandas as pd

    from dnaf.data.index import PAIR_COLUMNS, DatasetIndex, make_images_table

    record = {"name": "p.jpg", "split": "test", "identity": "a", "path": "p.jpg",
              "keypoints": from_annotation_row(f"{YS}: {XS}", SIZE)}  # fmt: skip
    DatasetIndex(make_images_table([record]), pd.DataFrame(columns=PAIR_COLUMNS)).save(tmp_path / "index")
    frame = f"{SIZE[0]}x{SIZE[1]}"
    common = ["transfer", "--dataset", "demo", "--model", model_dir, "--source", pictures / "artwork.png",
              "--steps", "2", "--pose-frame", frame]  # fmt: skip
    outputs = {}
    sources = {"json": ["--pose-json", pictures / "pose.json"], "row": ["--pose-row", f"{YS}: {XS}"],
               "name": ["--pose-name", "p.jpg", "--index", tmp_path / "index"]}  # fmt: skip
    for name, pose in sources.items():
        result = run_cli(*common, *pose, "--out", tmp_path / f"{name}.png")
        assert result.code == 0, result.text
        outputs[name] = np.asarray(Image.open(tmp_path / f"{name}.png"))
    np.testing.assert_array_equal(outputs["json"], outputs["row"])  # the same pose, the same seed
    np.testing.assert_array_equal(outputs["json"], outputs["name"])
    assert outputs["json"].shape == (*SIZE, 3)
    record = json.loads((tmp_path / "json.json").read_text())
    assert record["source_framing"]["fit"] == "pad" and record["source_framing"]["input_size"] == [50, 70]
    assert (
        run_cli(*common, "--pose-json", pictures / "pose.json", "--seed", "1", "--out", tmp_path / "s1.png").code == 0
    )
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "s1.png")), outputs["json"])

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG broken")
    result = run_cli(*common[:-6], "--source", bad, "--steps", "2", "--pose-json", pictures / "pose.json",
                     "--out", tmp_path / "x.png")  # fmt: skip
    assert result.code == 1 and "source image" in result.text and "not a readable image" in result.text
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"people": [{"pose_keypoints_2d": [0.0] * 54 + [1.0] * 3}]}))
    result = run_cli(*common, "--pose-json", wrong, "--out", tmp_path / "x.png")
    assert result.code == 1 and "19 keypoints; expected 18" in result.text
    result = run_cli(*common, "--pose-name", "p.jpg", "--out", tmp_path / "x.png")
    assert result.code == 2 and "--pose-name needs --index" in result.text
    assert not (tmp_path / "x.png").exists()


def test_cli_try_on_changes_only_the_masked_pixels(tmp_path, pictures, model_dir, run_cli):
    args = ["try-on", "--dataset", "demo", "--model", model_dir, "--person", pictures / "person.png", "--garment",
            pictures / "artwork.png", "--mask", pictures / "mask.png", "--pose-json", pictures / "pose.json",
            "--pose-frame", f"{SIZE[0]}x{SIZE[1]}", "--steps", "2"]  # fmt: skip
    assert run_cli(*args, "--out", tmp_path / "a.png").code == 0
    assert run_cli(*args, "--out", tmp_path / "b.png").code == 0
    person = np.asarray(Image.open(pictures / "person.png"))
    mask = np.asarray(Image.open(pictures / "mask.png")) > 0
    dressed = np.asarray(Image.open(tmp_path / "a.png"))
    np.testing.assert_array_equal(dressed[~mask], person[~mask])  # exactly the person outside
    assert np.abs(dressed[mask].astype(int) - person[mask]).mean() > 10  # repainted inside
    np.testing.assert_array_equal(dressed, np.asarray(Image.open(tmp_path / "b.png")))  # deterministic
    assert json.loads((tmp_path / "a.json").read_text())["mask_pixels"] == mask.sum()
    small_mask = tmp_path / "small_mask.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(small_mask)
    result = run_cli(*args[:10], small_mask, *args[11:], "--out", tmp_path / "c.png")
    assert result.code == 1 and "the mask is 8x8" in result.text


def test_the_api_is_importable_from_the_package(model_dir):
    import dnaf
    from dnaf.applications.api import DNAF

    assert dnaf.DNAF is DNAF
    engine = dnaf.DNAF(model_dir, device="cpu", skeleton_size=(2 * SIZE[0], 2 * SIZE[1]))
    assert engine.size == SIZE and engine.skeleton(from_annotation_row(f"{YS}: {XS}", SIZE)).shape == (*SIZE, 3)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        dnaf.Nothing  # noqa: B018


def test_poses_from_photos_through_the_api_and_the_cli(tmp_path, pictures, model_dir, run_cli):
    """A pose photo gives the same output as its keypoints extracted and fitted by hand; try-on
    takes the person photo's own pose by default; the API takes PIL images and paths."""
    from skimage import data

    from dnaf.applications.api import DNAF
    from dnaf.pose.config import PoseExtractionConfig
    from dnaf.pose.extraction import extract_picture

    astronaut = data.astronaut()[:, 90:390]  # 512x300: narrower than the model's frame
    Image.fromarray(astronaut).save(tmp_path / "astronaut.png")
    keypoints = extract_picture(astronaut, "a", PoseExtractionConfig()).person.keypoints
    # pad 512x300 into SIZE by hand: the height fills it (scale SIZE[0] / 512), centred horizontally
    scale = SIZE[0] / 512
    left = (SIZE[1] - round(300 * scale)) // 2
    fitted = np.stack([(keypoints[:, 0] * 300 * scale + left) / SIZE[1], keypoints[:, 1]], axis=1)

    dnaf = DNAF(model_dir)
    by_hand, _ = dnaf.transfer(pictures / "artwork.png", fitted, steps=2)
    from_photo, record = dnaf.transfer(Image.open(pictures / "artwork.png"), tmp_path / "astronaut.png", steps=2)
    np.testing.assert_array_equal(from_photo, by_hand)
    assert record["pose_extracted_by"] == "mediapipe" and record["pose_joints"] >= 10

    common = ["--dataset", "demo", "--model", model_dir, "--steps", "2"]
    result = run_cli("transfer", *common, "--source", pictures / "artwork.png", "--pose-image",
                     tmp_path / "astronaut.png", "--out", tmp_path / "t.png")  # fmt: skip
    assert result.code == 0, result.text
    assert json.loads((tmp_path / "t.json").read_text())["pose_extracted_by"] == "mediapipe"

    try_on = ["try-on", *common, "--person", tmp_path / "astronaut.png", "--garment", pictures / "artwork.png"]
    mask = tmp_path / "mask.png"
    Image.fromarray(np.full(astronaut.shape[:2], 255, np.uint8)).save(mask)
    assert run_cli(*try_on, "--mask", mask, "--out", tmp_path / "own.png").code == 0
    assert json.loads((tmp_path / "own.json").read_text())["pose"].startswith("extracted from the person photo")
    assert (
        run_cli(*try_on, "--mask", mask, "--pose-image", tmp_path / "astronaut.png", "--out", tmp_path / "p.png").code
        == 0
    )
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "own.png")), np.asarray(Image.open(tmp_path / "p.png"))
    )

    Image.fromarray(data.coffee()).save(tmp_path / "coffee.png")
    result = run_cli("transfer", *common, "--source", pictures / "artwork.png", "--pose-image",
                     tmp_path / "coffee.png", "--out", tmp_path / "x.png")  # fmt: skip
    assert result.code == 1 and "pose picture: no person found" in result.text


def test_a_posed_reference_model_takes_the_source_photos_own_pose(tmp_path, pictures):
    """A model trained with ``reference_pose: source`` gets the source photo's extracted pose for
    its reference rows (recorded); a source without a person is refused by name."""
    from skimage import data

    from dnaf.applications.api import DNAF
    from dnaf.applications.poses import PoseError

    model, scheduler = tiny_model(pixel_patch=2, reference_pose="source")
    randomise_injectors(model)
    save_tiny(model, scheduler, tmp_path / "posed")
    Image.fromarray(data.astronaut()[:, 90:390]).save(tmp_path / "astronaut.png")
    pose = from_annotation_row(f"{YS}: {XS}", SIZE)

    dnaf = DNAF(tmp_path / "posed", device="cpu")
    image, record = dnaf.transfer(tmp_path / "astronaut.png", pose, steps=2)
    assert record["reference_pose"]["pose_extracted_by"] == "mediapipe"
    # by hand: the fitted source photo, its extracted keypoints drawn as the reference's skeleton
    fitted, framing = fit_image(np.asarray(Image.open(tmp_path / "astronaut.png")), SIZE, "pad")
    source_keypoints, _ = dnaf._reference_pose(np.asarray(Image.open(tmp_path / "astronaut.png")), framing, "s")
    expected = dnaf.pipeline(fitted, dnaf.skeleton(pose), 2, Guidance(), torch.Generator().manual_seed(0),
                             source_pose=dnaf.skeleton(source_keypoints)).images[0]  # fmt: skip
    np.testing.assert_array_equal(image, np.asarray(expected))
    with pytest.raises(PoseError, match="source picture: no person found"):
        dnaf.transfer(pictures / "artwork.png", pose, steps=2)
