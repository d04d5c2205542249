"""Fixtures for the Terraform and deploy/ checks.

Real: the repository's `.tf` files parsed with python-hcl2, the `terraform` binary (`fmt`, and
`console` on the provider-free `policies.tf`), PyYAML, kubernetes-validate, checkov run from
its own virtual environment, and the providers' published schemas (npm `@cdktf/provider-*`).
Fake: nothing; no Google Cloud API is reachable, so nothing is applied and no provider binary
is downloaded.
"""

from __future__ import annotations

import pytest
from terraform_layout import EXAMPLE, MODULE_NAMES, MODULES, Module, parse_folder


@pytest.fixture(scope="session")
def modules() -> dict[str, Module]:
    return {name: parse_folder(MODULES / name) for name in MODULE_NAMES}


@pytest.fixture(scope="session")
def example() -> Module:
    return parse_folder(EXAMPLE)
