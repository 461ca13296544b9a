"""The DNAF model on diffusers: pose adapter, appearance injectors, noise-aware attention."""
