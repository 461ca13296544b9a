"""Files and pictures: atomic writes, image encoding and loading, tensors <-> pixels, grids, the
parallel map. Imports only dnaf.core."""
