"""The embedded synthetic demo dataset: procedurally drawn people in a DeepFashion layout."""
