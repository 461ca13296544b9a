import json

DATASETS = ("deepfashion", "market", "demo")


wildcard_constraints:
    dataset="|".join(DATASETS),


def dataset_root(dataset):
    return config["datasets"][dataset]["root"]


def config_json(*keys):
    """The part of the config under ``keys`` as a partial config document in JSON, for a rule's
    ``params``: the rule re-runs when exactly that part changes, and the CLI validates it."""
    value = config
    for key in keys:
        value = value[key]
    for key in reversed(keys):
        value = {key: value}
    return json.dumps(value, sort_keys=True)
