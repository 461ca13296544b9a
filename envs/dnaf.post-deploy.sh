#!/usr/bin/env bash
# Snakemake runs this inside a conda environment it has just created from dnaf.yaml or
# dnaf-cuda.yaml, in the workflow's working directory (the repository root): install the dnaf
# package from there, leaving the pinned dependencies as they are.
set -euo pipefail
pip install --no-deps -r envs/requirements-pose.txt  # mediapipe without its numpy<2 pin
pip install --no-deps --editable .
