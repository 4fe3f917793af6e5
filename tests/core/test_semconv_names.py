"""`llmtap.semconv_names`: the semconv values read from the module's source are exactly the module's own."""

from __future__ import annotations

import enum
import json
import subprocess
import sys

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes

from llmtap import semconv_names


def module_values() -> dict[str, str]:
    """Every string constant and enum member value of the imported module (aliases under their own names)."""
    values = {}
    for name, value in vars(gen_ai_attributes).items():
        if isinstance(value, str) and name.isupper():
            values[name] = value
        elif isinstance(value, type) and issubclass(value, enum.Enum) and value is not enum.Enum:
            for member, item in value.__members__.items():
                values[f"{name}.{member}"] = item.value
    return values


def test_the_scan_of_the_installed_source_finds_every_name_with_its_value() -> None:
    source = semconv_names._source(semconv_names.GEN_AI)
    with open(gen_ai_attributes.__file__, encoding="utf-8") as file:
        assert source == file.read()  # the file the import system loads

    assert semconv_names.scan(source) == module_values()


def test_read_gives_the_values_without_importing_the_module() -> None:
    code = (
        "import json, sys\n"
        "from llmtap.semconv_names import GEN_AI, read\n"
        "values = read(GEN_AI, 'GEN_AI_REQUEST_MODEL', 'GenAiOperationNameValues.EXECUTE_TOOL', "
        "'GenAiTokenTypeValues.OUTPUT')\n"
        "print(json.dumps([values, GEN_AI in sys.modules, 'typing_extensions' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)

    assert json.loads(done.stdout) == [["gen_ai.request.model", "execute_tool", "output"], False, False]


def test_read_takes_an_imported_module_as_it_is() -> None:
    assert semconv_names.GEN_AI in sys.modules  # imported above
    names = semconv_names.constants(semconv_names.GEN_AI, "GEN_AI_USAGE_INPUT_TOKENS", "GEN_AI_TOOL_CALL_RESULT")

    assert vars(names) == {
        "GEN_AI_USAGE_INPUT_TOKENS": gen_ai_attributes.GEN_AI_USAGE_INPUT_TOKENS,
        "GEN_AI_TOOL_CALL_RESULT": gen_ai_attributes.GEN_AI_TOOL_CALL_RESULT,
    }


def test_a_name_the_source_does_not_show_falls_back_to_the_module() -> None:
    code = (
        "import sys\n"
        "from llmtap.semconv_names import GEN_AI, read\n"
        "try:\n"
        "    read(GEN_AI, 'GEN_AI_REQUEST_MODEL', 'GEN_AI_NO_SUCH_NAME')\n"
        "except AttributeError as exc:\n"
        "    print(GEN_AI in sys.modules, exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)

    assert done.stdout.startswith("True ")
    assert "GEN_AI_NO_SUCH_NAME" in done.stdout


def test_a_module_without_source_is_imported() -> None:
    assert semconv_names._source("json.no_such_module") is None
    with pytest.raises(ModuleNotFoundError):
        semconv_names.read("json.no_such_module", "NAME")
