"""The dataset of (source, target, skeleton) pairs that training, sampling and the applications share."""
