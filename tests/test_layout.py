"""The package's layout: stages in data-flow order, faces on top, nothing imports upward.

Every ``import`` in ``importer/`` (lazy ones inside functions included) is
resolved to the layer of the module it names; a module may import its own
layer and the layers below it. The sandbox is a stand-in for the providers:
only a face may start it, and it may use anything but a face.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "importer"

# Lowest first. A module's layer is the first entry whose name is its dotted path or a prefix of it.
LAYERS: list[tuple[str, ...]] = [
    (
        "models",
        "errors",
        "money",
        "config",
        "logs",
        "http",
        "columns",
        "outcomes",
        "csvsafe",
        "killpoints",
        "examples",
    ),
    ("providers",),
    ("read",),
    ("validate",),
    ("group",),
    ("submit",),
    ("write",),
    ("api", "templates"),
    ("cli", "schedule", "web", "__main__", "__init__"),
]
STAND_IN = "sandbox"
FACES = len(LAYERS) - 1


def layer_of(module: str) -> int | None:
    """The layer of ``importer.<module>`` (``None`` for the sandbox)."""
    top = module.split(".")[0]
    if top == STAND_IN:
        return None
    for level, names in enumerate(LAYERS):
        if top in names:
            return level
    raise AssertionError(f"importer.{module} is in no layer; add it to LAYERS in {__file__}")


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path, root: Path = PACKAGE) -> set[str]:
    """The importer modules that ``path`` imports, as dotted paths below ``importer``."""
    own = module_name(path, root).split(".")
    package = own if path.name == "__init__.py" and own != ["__init__"] else own[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "importer":
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.add(".".join(target))
            else:  # ``from . import money``: the names are modules
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("importer."))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_upward_and_only_faces_start_the_sandbox(path):
    own = module_name(path)
    own_layer = layer_of(own)
    for target in imported_modules(path):
        target_layer = layer_of(target)
        if own_layer is None:  # the sandbox: anything but a face
            assert target_layer != FACES, f"the sandbox imports the face importer.{target}"
        elif target_layer is None:
            assert own_layer == FACES, f"importer.{own} imports the sandbox; only a face may start it"
        else:
            assert target_layer <= own_layer, (
                f"importer.{own} (layer {own_layer}) imports importer.{target} (layer {target_layer}): upward"
            )


def test_the_checker_sees_an_upward_import_and_the_stand_in(tmp_path):
    """The rule above catches the ground reaching into a stage, or real code starting the sandbox."""
    (tmp_path / "submit").mkdir()
    (tmp_path / "config.py").write_text("from .validate.warnings import severity_map\n")
    (tmp_path / "submit" / "orders.py").write_text("from ..sandbox import Sandbox\nfrom importer import money\n")
    assert imported_modules(tmp_path / "config.py", tmp_path) == {"validate.warnings"}
    assert imported_modules(tmp_path / "submit" / "orders.py", tmp_path) == {"sandbox", "money"}
    assert layer_of("validate.warnings") > layer_of("config")
    assert layer_of("sandbox") is None


def test_every_stage_is_a_folder_and_the_ground_is_flat():
    for stage in ("read", "validate", "submit", "write", "providers", "sandbox", "schedule"):
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    assert (PACKAGE / "group.py").is_file()
    for name in LAYERS[0]:
        assert (PACKAGE / f"{name}.py").is_file(), name
