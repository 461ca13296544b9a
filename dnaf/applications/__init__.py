"""Applications of a trained DNAF that need no fine-tuning: pose transfer of any image and
appearance transfer (virtual try-on) inside a mask."""
