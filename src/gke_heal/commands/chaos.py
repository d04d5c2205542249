"""`gke-heal chaos ...`: list, inject and clear faults through the Kubernetes API (contract §9).

Faults are annotations (`chaos.gke-heal.io/fault`, `chaos.gke-heal.io/params`) set with a JSON
merge patch over HTTP, so the same command works against the simulator and, for the annotation
itself, any cluster whose kubeconfig it is given.
"""

from __future__ import annotations

import base64
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml
from rich.console import Console
from rich.table import Table

from local_cloud.gke.faults import CATALOGUE, FAULT_ANNOTATION, FAULTS, PARAMS_ANNOTATION

app = typer.Typer(help="Inject faults into a cluster.", no_args_is_help=True)
Obj = dict[str, Any]
DEFAULT_KUBECONFIG = Path(".gke-heal/kubeconfig")


class ChaosError(Exception):
    """A problem the user can fix; the message names the option or file."""


@dataclass(frozen=True)
class ApiTarget:
    """Where and how to reach the API server, from a kubeconfig."""

    server: str
    token: str | None
    verify: ssl.SSLContext | bool


def read_kubeconfig(path: Path) -> ApiTarget:
    """The current context's server, bearer token and TLS trust from a kubeconfig file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChaosError(f"--kubeconfig {path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ChaosError(f"--kubeconfig {path}: not YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ChaosError(f"--kubeconfig {path}: not a kubeconfig")

    def named(section: str, name: object) -> Obj:
        for item in doc.get(section) or []:
            if isinstance(item, dict) and item.get("name") == name:
                inner = item.get(section[:-1])
                return inner if isinstance(inner, dict) else {}
        raise ChaosError(f"--kubeconfig {path}: {section[:-1]} {name!r} not found")

    context = named("contexts", doc.get("current-context"))
    cluster = named("clusters", context.get("cluster"))
    user = named("users", context.get("user")) if context.get("user") else {}
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("http://", "https://")):
        raise ChaosError(f"--kubeconfig {path}: cluster.server must be an http(s) URL")
    verify: ssl.SSLContext | bool = True
    if cluster.get("insecure-skip-tls-verify"):
        verify = False
    elif cluster.get("certificate-authority-data"):
        pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
        verify = ssl.create_default_context(cadata=pem)
    elif cluster.get("certificate-authority"):
        verify = ssl.create_default_context(cafile=str(cluster["certificate-authority"]))
    token = user.get("token")
    return ApiTarget(server.rstrip("/"), str(token) if token else None, verify)


def _path(kind_target: str, target: str) -> tuple[str, str]:
    """The object's API path and a human name, from `--target`."""
    if kind_target == "Node":
        name = target.removeprefix("node/")
        if not name or "/" in name:
            raise ChaosError(f"--target {target!r}: give a node name (or node/NAME)")
        return f"/api/v1/nodes/{name}", f"node {name}"
    namespace, _, name = target.partition("/")
    name = name.removeprefix("deployment/").removeprefix("deploy/")
    if not namespace or not name or "/" in name:
        raise ChaosError(f"--target {target!r}: give NAMESPACE/DEPLOYMENT, e.g. shop/cart")
    return (
        f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        f"deployment {namespace}/{name}",
    )


def annotate(api: ApiTarget, path: str, what: str, annotations: dict[str, str | None]) -> Obj:
    """Merge-patch annotations onto one object; a `None` value removes the annotation."""
    headers = {"Content-Type": "application/merge-patch+json", "Accept": "application/json"}
    if api.token:
        headers["Authorization"] = f"Bearer {api.token}"
    body = {"metadata": {"annotations": annotations}}
    try:
        with httpx.Client(verify=api.verify, timeout=10) as client:
            response = client.patch(api.server + path, content=json.dumps(body), headers=headers)
    except httpx.HTTPError as exc:
        raise ChaosError(f"cannot reach the API server at {api.server}: {exc}") from None
    if response.status_code == 404:
        raise ChaosError(f"--target: {what} not found")
    if response.status_code >= 400:
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise ChaosError(
            f"the API server refused to annotate {what} ({response.status_code}): {message}"
        )
    result = response.json()
    return result if isinstance(result, dict) else {}


@app.command("list")
def list_faults() -> None:
    """Show every fault kind: what it targets, what it does, and what fixes it."""
    table = Table(title="Fault kinds")
    for column in ("kind", "target", "what happens", "remedy", "params (defaults)"):
        table.add_column(column, overflow="fold")
    for stage in CATALOGUE:
        table.add_row(stage.kind, stage.target, stage.summary, stage.remedy,
                      json.dumps(stage.default_params) if stage.default_params else "")  # fmt: skip
    Console().print(table)


@app.command("inject")
def inject(
    kind: str = typer.Argument(..., help="Fault kind (see `gke-heal chaos list`)."),
    target: str = typer.Option(..., help="NAMESPACE/DEPLOYMENT, or a node name for node faults."),
    params: str | None = typer.Option(
        None, help="Parameters as a JSON object, e.g. '{\"minutes_to_oom\": 3}'."
    ),
    kubeconfig: Path = typer.Option(DEFAULT_KUBECONFIG, help="Kubeconfig of the cluster."),
) -> None:
    """Annotate TARGET with fault KIND."""
    err = Console(stderr=True)
    try:
        stage = FAULTS.get(kind)
        if stage is None:
            raise ChaosError(
                f"KIND {kind!r} is not a fault kind; choose one of: {', '.join(FAULTS)}"
            )
        if params is not None:
            try:
                parsed = json.loads(params)
            except ValueError as exc:
                raise ChaosError(f"--params: not JSON: {exc}") from None
            if not isinstance(parsed, dict):
                raise ChaosError("--params: must be a JSON object")
            unknown = set(parsed) - set(stage.default_params)
            if unknown:
                known = ", ".join(stage.default_params) or "none"
                raise ChaosError(
                    f"--params: {kind} has no parameter {', '.join(sorted(unknown))} (known: {known})"
                )
            bad = stage.bad_choice(parsed)
            if bad:
                raise ChaosError(f"--params: {bad}")
        path, what = _path(stage.target, target)
        annotate(read_kubeconfig(kubeconfig), path, what,
                 {FAULT_ANNOTATION: kind, PARAMS_ANNOTATION: params if params else None})  # fmt: skip
    except ChaosError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    Console().print(
        f"injected [bold]{kind}[/bold] into {what}; remedy: {stage.remedy}", highlight=False
    )


@app.command("clear")
def clear(
    target: str = typer.Option(..., help="NAMESPACE/DEPLOYMENT, or node/NAME for a node."),
    kubeconfig: Path = typer.Option(DEFAULT_KUBECONFIG, help="Kubeconfig of the cluster."),
) -> None:
    """Remove any fault annotation from TARGET (the fault ends)."""
    err = Console(stderr=True)
    try:
        node = target.startswith("node/") or "/" not in target
        path, what = _path("Node" if node else "Deployment", target)
        annotate(
            read_kubeconfig(kubeconfig),
            path,
            what,
            {FAULT_ANNOTATION: None, PARAMS_ANNOTATION: None},
        )
    except ChaosError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    Console().print(f"cleared faults from {what}", highlight=False)
