"""Training DNAF with accelerate: data, the diffusion step, checkpoints, logs."""
