"""`dnaf` with every training draw of noise recorded: run under accelerate launch, each process
appends (timesteps, first noise values, first values of the clean sample) of each draw to
$DNAF_RECORD_DIR/rank<r>.jsonl."""

import json
import os
import sys
from pathlib import Path

from diffusers import DDPMScheduler

from dnaf.cli import main

_add_noise = DDPMScheduler.add_noise


def recording_add_noise(self, original, noise, timesteps):
    record = {
        "timesteps": timesteps.tolist(),
        "noise": noise.flatten()[:4].tolist(),
        "x": original.flatten()[:3].tolist(),
    }
    path = Path(os.environ["DNAF_RECORD_DIR"]) / f"rank{os.environ.get('RANK', '0')}.jsonl"
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    return _add_noise(self, original, noise, timesteps)


if __name__ == "__main__":
    DDPMScheduler.add_noise = recording_add_noise
    sys.exit(main(sys.argv[1:]))
