"""The layers of docs/architecture.md hold: no module imports a higher layer, or a sibling
package of its own layer (lazy imports inside functions included)."""

import ast
import re
from pathlib import Path

from .conftest import REPO


def _layers() -> list[tuple[str, tuple[str, ...]]]:
    text = (REPO / "docs" / "architecture.md").read_text()
    block = re.search(r"<!-- layers:.*?-->\s*```text\n(.*?)```", text, re.S).group(1)
    return [(line.split()[0], tuple(line.split()[1:])) for line in block.strip().splitlines()]


def _owner(module: str, layers) -> tuple[int, str]:
    """(layer position, package) of a module: the longest package prefix that names it."""
    best = None
    for position, (_, packages) in enumerate(layers):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and (
                best is None or len(package) > len(best[1])
            ):
                best = (position, package)
    assert best is not None, f"{module} is in no layer of docs/architecture.md"
    return best


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from dnaf.io import atomic`
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name == "dnaf" or name.startswith("dnaf.")}


def _modules() -> dict[str, Path]:
    files = sorted((REPO / "dnaf").rglob("*.py"))
    return {".".join(f.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): f for f in files}


def _violations(modules: dict[str, Path], layers) -> list[str]:
    wrong = []
    for module, path in modules.items():
        position, package = _owner(module, layers)
        for imported in _imports(path):
            if imported not in modules and imported.rsplit(".", 1)[0] in modules:
                imported = imported.rsplit(".", 1)[0]  # a name imported from a module, not a submodule
            their_position, their_package = _owner(imported, layers)
            if their_package != package and their_position >= position:
                wrong.append(f"{module} ({layers[position][0]}) imports {imported} ({layers[their_position][0]})")
    return sorted(set(wrong))


def test_every_module_imports_only_its_own_package_and_lower_layers():
    wrong = _violations(_modules(), _layers())
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_the_check_catches_upward_sideways_and_lazy_imports(tmp_path):
    modules = _modules()
    upward = tmp_path / "upward.py"  # a lazy import of a higher layer, inside a function
    upward.write_text("def f():\n    from dnaf.models.build import build_tiny\n")
    sideways = tmp_path / "sideways.py"  # sampling and training share a layer
    sideways.write_text("from dnaf.training import checkpoints\n")
    downward = tmp_path / "downward.py"
    downward.write_text("from dnaf.io.atomic import atomic_write\nfrom dnaf.data import keypoints\n")
    probes = {"dnaf.data.upward": upward, "dnaf.sampling.sideways": sideways, "dnaf.pose.downward": downward}
    assert _violations({**modules, **probes}, _layers()) == [
        "dnaf.data.upward (data) imports dnaf.models.build (models)",
        "dnaf.sampling.sideways (training) imports dnaf.training (training)",
        "dnaf.sampling.sideways (training) imports dnaf.training.checkpoints (training)",
    ]


def test_every_package_of_dnaf_has_a_layer():
    layers = _layers()
    packages = {p.name for p in (REPO / "dnaf").iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    packages |= {p.stem for p in (REPO / "dnaf").glob("*.py") if p.stem != "__init__"}
    named = {package.split(".")[1] for _, members in layers for package in members if "." in package}
    assert packages <= named, f"not in docs/architecture.md: {sorted(packages - named)}"
