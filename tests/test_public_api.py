"""The notebook-facing API is deliberate: changing it must be a conscious edit of this test."""

import subprocess
import sys

import importer

EXPECTED = [
    "ConfigError",
    "Grouping",
    "ImporterError",
    "InputError",
    "OrderDraft",
    "OrderSheet",
    "ProviderError",
    "Report",
    "RunResult",
    "Sandbox",
    "Settings",
    "Status",
    "create",
    "group",
    "load",
    "load_settings",
    "preview",
    "run",
    "validate",
    "write_results",
]


def test_all_is_pinned():
    assert sorted(importer.__all__) == EXPECTED


def test_every_export_resolves():
    for name in importer.__all__:
        assert getattr(importer, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    try:
        importer.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_cli_import_does_not_load_pandas():
    code = "import sys, importer.cli; print('pandas' in sys.modules, 'pandera' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_stage_functions_stay_functions_after_their_modules_are_imported():
    code = (
        "import importer, importer.validate, importer.group; importer.run; "
        "from importer.validate import Report; "
        "print(callable(importer.validate), callable(importer.group), type(importer.validate).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "function"]
