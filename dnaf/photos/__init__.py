"""A folder of person photos grouped by identity -> a dataset in the DeepFashion CSV layout."""
