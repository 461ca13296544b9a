"""The page: a pose-transfer tab and a try-on tab over one model, the sampling settings they
share, and serving it on this machine only (no share link, no telemetry: it works offline)."""

from __future__ import annotations

import logging
import os
from typing import get_args

import gradio as gr
import numpy as np

from dnaf.applications.app.actions import MASK_FROM, POSE_FROM, Actions, Sampling
from dnaf.applications.app.choices import Choices
from dnaf.pipeline import Guidance, GuidanceMode
from dnaf.pose.render import render_skeleton

logger = logging.getLogger(__name__)

THUMBNAIL_HEIGHT = 160
"""Pixels of a pose thumbnail's height: skeletons drawn at the model's size (as small as 32 pixels
in the tests) would be blurs."""
CSS = ".dnaf-result img { width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated; }"
"""Results fill their frame: a model's 64x44 picture would otherwise be a stamp in the corner."""
THEME = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
"""System fonts: the page needs no font file from anywhere."""


def _pose_picked(event: gr.SelectData) -> tuple[int, str]:
    """The gallery's clicked pose, which becomes the target pose."""
    return event.index, "gallery"


def _sampling_controls(steps: int, guidance: Guidance) -> list[gr.components.Component]:
    with gr.Accordion("Sampling", open=True), gr.Row():
        controls = [
            gr.Slider(1, 200, value=steps, step=1, label="steps", elem_id="steps"),
            gr.Radio(list(get_args(GuidanceMode)), value=guidance.mode, label="guidance", elem_id="guidance"),
            gr.Number(guidance.pose_scale, label="pose scale w_p", elem_id="pose-scale"),
            gr.Number(guidance.appearance_scale, label="appearance scale w_a", elem_id="appearance-scale"),
            gr.Number(0, precision=0, minimum=0, label="seed", elem_id="seed"),
        ]
    return controls


def _examples(choices: Choices, label: str, elem_id: str) -> gr.Gallery | None:
    if not choices.pictures:
        return None
    pictures = [(choices.picture(k), name) for k, (name, _) in enumerate(choices.pictures)]
    return gr.Gallery(pictures, format="png", label=label, columns=3, height=220, object_fit="contain",
                      allow_preview=False, elem_id=elem_id)  # fmt: skip


def _picture_with_examples(choices: Choices, label: str, elem_id: str) -> tuple[gr.Image, gr.State]:
    """An upload field, the test pictures to pick instead, and the picked test picture's name
    (None once the user uploads one of their own)."""
    # PNG: a picked picture goes to the browser and back without webp's losses
    image = gr.Image(label=label, type="numpy", format="png", sources=["upload", "clipboard"], height=256,
                     elem_id=elem_id)  # fmt: skip
    name = gr.State(None)
    examples = _examples(choices, f"or pick a test picture ({label.lower()})", f"{elem_id}-examples")
    if examples is not None:

        def pick(event: gr.SelectData) -> tuple[np.ndarray, str]:
            return choices.picture(event.index), choices.pictures[event.index][0]

        examples.select(pick, None, [image, name])
    image.upload(lambda: None, None, name)
    image.clear(lambda: None, None, name)
    return image, name


def _transfer_tab(actions: Actions, choices: Choices, sampling: list) -> None:
    with gr.Row():
        with gr.Column():
            source, _ = _picture_with_examples(choices, "Source picture", "source")
        with gr.Column():
            pose_from = gr.Radio(list(POSE_FROM), value="gallery", label="target pose from", elem_id="pose-from")
            height, width = actions.engine.size
            thumbnail = (THUMBNAIL_HEIGHT, round(THUMBNAIL_HEIGHT * width / height))
            thumbnails = [(render_skeleton(keypoints, thumbnail), label) for label, keypoints in choices.poses]
            gallery = gr.Gallery(thumbnails, format="png", label=f"pose gallery ({choices.origin})", columns=3,
                                 height=360, object_fit="contain", allow_preview=False,
                                 elem_id="pose-gallery")  # fmt: skip
            pose_position = gr.State(None)
            gallery.select(_pose_picked, None, [pose_position, pose_from])
            photo = gr.Image(label="pose photo (a person; the pose is extracted)", type="numpy",
                             sources=["upload", "clipboard"], height=200, elem_id="pose-photo")  # fmt: skip
            photo.upload(lambda: "photo", None, pose_from)
        with gr.Column():
            button, output, record = _result_column("Generate", "generated", "generate")
    button.click(lambda source, pose_from, position, photo, *settings: actions.transfer(
        source, pose_from, position, photo, Sampling(*settings)), [source, pose_from, pose_position, photo, *sampling],
        [output, record], concurrency_id="model", concurrency_limit=1)  # fmt: skip


def _result_column(button_label: str, label: str, elem_id: str) -> tuple[gr.Button, gr.Image, gr.JSON]:
    """The button, the picture it makes (PNG: the model's exact pixels) and that picture's record."""
    button = gr.Button(button_label, variant="primary", elem_id=elem_id)
    output = gr.Image(label=label, type="numpy", format="png", interactive=False, height=320,
                      elem_id=f"{elem_id}-output", elem_classes=["dnaf-result"])  # fmt: skip
    record = gr.JSON(label="record", open=False, max_height=320, elem_id=f"{elem_id}-record")
    return button, output, record


def _editor_over(person: np.ndarray | None) -> dict | None:
    """The mask editor's canvas: the person picture, nothing painted yet."""
    return None if person is None else {"background": person, "layers": [], "composite": person}


def _try_on_tab(actions: Actions, choices: Choices, sampling: list) -> None:
    with gr.Row():
        with gr.Column():
            person, person_name = _picture_with_examples(choices, "Person", "person")
        with gr.Column():
            garment, _ = _picture_with_examples(choices, "Garment (any picture)", "garment")
        with gr.Column():
            button, output, record = _result_column("Try on", "dressed", "try-on")
    mask_from = gr.Radio(list(MASK_FROM) if choices.parts else list(MASK_FROM[:2]), value="drawn",
                         label="region to replace", elem_id="mask-from")  # fmt: skip
    with gr.Row():
        brush = gr.Brush(colors=["#ff00ff"], color_mode="fixed")
        drawn = gr.ImageEditor(label="paint the region over the person", type="numpy", sources=[], brush=brush,
                               elem_id="mask-editor")  # fmt: skip
        uploaded = gr.Image(label="or upload a mask (not black = replace; the person picture's size)", type="numpy",
                            image_mode="L", sources=["upload"], elem_id="mask-upload")  # fmt: skip
    person.change(_editor_over, person, drawn)
    button.click(lambda person, name, garment, mask_from, drawn, uploaded, *settings: actions.try_on(
        person, name, garment, mask_from, drawn, uploaded, Sampling(*settings)),
        [person, person_name, garment, mask_from, drawn, uploaded, *sampling], [output, record],
        concurrency_id="model", concurrency_limit=1)  # fmt: skip


def build_page(actions: Actions, steps: int, guidance: Guidance) -> gr.Blocks:
    """The page over ``actions``; ``steps`` and ``guidance`` are the controls' starting values."""
    engine = actions.engine
    with gr.Blocks(analytics_enabled=False, title="DNAF") as page:
        gr.Markdown(f"## DNAF: pose transfer and try-on\nModel `{engine.model_dir}`, sampling at "
                    f"{engine.size[0]}x{engine.size[1]} on {engine.device}. Pictures of any size are padded "
                    "to that frame.")  # fmt: skip
        sampling = _sampling_controls(steps, guidance)
        with gr.Tabs():
            with gr.Tab("Pose transfer", elem_id="tab-transfer"):
                _transfer_tab(actions, actions.choices, sampling)
            with gr.Tab("Try-on", elem_id="tab-try-on"):
                _try_on_tab(actions, actions.choices, sampling)
    return page


def serve(page: gr.Blocks, host: str, port: int) -> str:
    """Start serving ``page`` on ``host``:``port`` in the background; -> its URL."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # also read at launch, beside the page's own switch
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request of Gradio's start-up self-check
    _, url, _ = page.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=True,
                            quiet=True, theme=THEME, css=CSS, footer_links=[])  # fmt: skip
    logger.info("the DNAF page is at %s", url)
    return url
