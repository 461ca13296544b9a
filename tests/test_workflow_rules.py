"""The workflow's rules read statically: each has its log and benchmark, and docs/workflow.md
leads from each rule to its file, its `dnaf` verb and the module of that verb."""

import re

from dnaf.commands.workflow_jobs import rule_files

from .conftest import REPO

TARGETS = {"demo", "rehearsal", "texture_study"}  # rules that only name files to build
ROW = re.compile(r"^\| `(\w+)` \| `([^`]+)` \|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)


def _rule_blocks() -> dict[str, str]:
    """rule -> its text, up to the next rule or the end of its file."""
    blocks = {}
    for rule, name in rule_files(REPO).items():
        text = (REPO / name).read_text()
        start = re.search(rf"^\s*rule {rule}:", text, re.MULTILINE).end()
        following = re.search(r"^\s*rule \w+:", text[start:], re.MULTILINE)
        blocks[rule] = text[start : start + following.start() if following else len(text)]
    return blocks


def test_the_rules_are_found_where_the_snakefile_includes_them():
    rules = rule_files(REPO)
    assert rules["demo"] == "Snakefile" and rules["score_shard"] == "workflow/rules/score.smk"
    assert rules["copy_source"] == "workflow/rules/baselines.smk" and rules["rehearse_resume"].endswith("rehearsal.smk")


def test_every_rule_that_runs_a_command_has_a_log_and_a_benchmark_named_after_it():
    for rule, block in _rule_blocks().items():
        if rule in TARGETS:
            assert "shell:" not in block, rule
            continue
        for section, folder in (("log", "logs"), ("benchmark", "benchmarks")):
            found = re.search(rf"^\s+{section}:\n\s+f?\"([^\"]+)\"", block, re.MULTILINE)
            assert found, f"{rule} has no {section}:"
            assert found[1].startswith(f"results/{folder}/{rule}/"), f"{rule}: {found[1]}"


def test_docs_lead_from_every_rule_to_its_file_verb_and_module():
    rows = {
        rule: (file, verb, module) for rule, file, verb, module in ROW.findall((REPO / "docs/workflow.md").read_text())
    }
    rules = rule_files(REPO)
    assert set(rows) == set(rules), (
        f"missing: {sorted(set(rules) - set(rows))}, unknown: {sorted(set(rows) - set(rules))}"
    )
    blocks = _rule_blocks()
    for rule, (file, verb, module) in rows.items():
        assert file == rules[rule], f"{rule} is defined in {rules[rule]}, not {file}"
        verbs = re.findall(r"`dnaf ([a-z-]+)", verb)
        assert bool(verbs) == (rule not in TARGETS), rule
        for name in verbs:  # the verb the rule runs, a function of that module
            assert re.search(rf"(dnaf|launch\}}) {name}\b", blocks[rule]), f"{rule} does not run dnaf {name}"
            source = (REPO / module.strip("`")).read_text()
            assert f"def {name.replace('-', '_')}(" in source, f"{rule}: no {name} in {module}"
