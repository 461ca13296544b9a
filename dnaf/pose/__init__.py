"""OpenPose skeleton images: rendering and the on-disk cache."""
