import json

DATASETS = ("deepfashion", "market", "demo")


wildcard_constraints:
    dataset="|".join(DATASETS),
    shard=r"\d+",


def dataset_root(dataset):
    return config["datasets"][dataset]["root"]


def config_json(*paths):
    """The parts of the config under each key path (a tuple of keys) as one partial config
    document in JSON, for a rule's ``params``: the rule re-runs when exactly those parts change,
    and the CLI validates them."""
    document = {}
    for path in paths:
        value = config
        for key in path:
            value = value[key]
        node = document
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return json.dumps(document, sort_keys=True)


def dataset_json(dataset):
    return config_json(("datasets", dataset))


def experiment_json(dataset):
    return config_json(("datasets", dataset), ("experiments", dataset))


def num_shards(dataset):
    return config["experiments"][dataset]["sample"]["shards"]
