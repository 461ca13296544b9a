"""The evaluation metrics of the field, computed with the libraries the peers use."""
