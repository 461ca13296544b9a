"""The bottom layer: the error hierarchy, the strict settings base, the device choice, the
version. It imports nothing else of dnaf."""
