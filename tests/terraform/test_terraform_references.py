"""Every reference resolves: the offline stand-in for `terraform validate`, which needs providers.

In each module (and the example env) every `var.X`, `local.X`, `data.T.N`, resource `T.N` and
`module.N.output` names something declared, so a typo fails here instead of at `terraform plan`.
"""

from __future__ import annotations

import re

import hcl2
import pytest
from terraform_layout import EXAMPLE, MODULE_NAMES, MODULES, Module, parse_folder, unquote

_COMMENT = re.compile(r"(?m)^\s*#.*$|(?<=\s)#[^\n\"]*$")
_RESOURCE_REF = re.compile(
    r"(?<![\w.\"/-])((?:google|kubernetes)_[a-z0-9_]+)\.([a-z_][a-z0-9_]*)\b"
)


def _code(module: Module) -> str:
    return _COMMENT.sub("", module.text)


def _declared_data(module: Module) -> set[tuple[str, str]]:
    found = set()
    for tf in module.path.glob("*.tf"):
        for block in hcl2.loads(tf.read_text()).get("data", []):
            for dtype, named in block.items():
                found |= {(unquote(dtype), unquote(n)) for n in named}
    return found


def _check(module: Module) -> list[str]:
    code = _code(module)
    problems = []
    for name in set(re.findall(r"\bvar\.([a-z_][a-z0-9_]*)", code)) - set(module.variables):
        problems.append(f"var.{name} is not declared")
    for name in set(re.findall(r"\blocal\.([a-z_][a-z0-9_]*)", code)) - set(module.locals):
        problems.append(f"local.{name} is not declared")
    data = _declared_data(module)
    data_refs = set(re.findall(r"\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)", code))
    for ref in data_refs - data:
        problems.append(f"data.{ref[0]}.{ref[1]} is not declared")
    resources = {(r.type, r.name) for r in module.resources}
    for match in _RESOURCE_REF.finditer(code):
        ref = (match.group(1), match.group(2))
        if ref in data_refs or code[max(0, match.start() - 5) : match.start()] == "data.":
            continue
        if ref not in resources:
            problems.append(f"{ref[0]}.{ref[1]} is not a resource of {module.name}")
    return sorted(set(problems))


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_references_resolve(name: str) -> None:
    assert _check(parse_folder(MODULES / name)) == []


def test_example_references_resolve() -> None:
    example = parse_folder(EXAMPLE)
    assert _check(example) == []
    outputs = {name: set(parse_folder(MODULES / name).outputs) for name in MODULE_NAMES}
    for module_name, output in re.findall(r"\bmodule\.([a-z_]+)\.([a-z_]+)", _code(example)):
        assert module_name in example.modules, f"module.{module_name} is not called"
        assert output in outputs[module_name], f"module.{module_name}.{output} is not an output"


def test_the_check_catches_a_typo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "main.tf").write_text(
        'variable "prefix" {\n  type        = string\n  description = "p"\n}\n'
        'resource "google_pubsub_topic" "t" {\n  name = "${var.prefx}-t"\n}\n'
        'resource "google_pubsub_subscription" "s" {\n  topic = google_pubsub_topik.t.id\n'
        "  name  = local.nme\n}\n"
    )
    problems = _check(parse_folder(tmp_path))
    assert problems == [
        "google_pubsub_topik.t is not a resource of " + tmp_path.name,
        "local.nme is not declared",
        "var.prefx is not declared",
    ]
