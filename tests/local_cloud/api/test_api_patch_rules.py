"""Strategic merge, JSON merge and JSON patch semantics, case by case (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from local_cloud.gke.api import patch, schemas
from local_cloud.gke.api.status import ApiError

POD = schemas.kind_schema("v1", "Pod")
DEPLOYMENT = schemas.kind_schema("apps/v1", "Deployment")


def _pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "finalizers": ["a"]},
        "spec": {"containers": list(containers), **spec},
    }


WEB = {
    "name": "web",
    "image": "nginx:1",
    "ports": [{"containerPort": 80}],
    "env": [{"name": "A", "value": "1"}],
}
SIDE = {"name": "side", "image": "envoy:1"}

STRATEGIC_CASES = [
    (
        "a container is merged by name, keeping its other fields",
        _pod(WEB, SIDE),
        {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}},
        lambda r: r["spec"]["containers"] == [{**WEB, "image": "nginx:2"}, SIDE],
    ),
    (
        "$setElementOrder reorders the merged list",
        _pod(WEB, SIDE),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "web"}],
                "containers": [{"name": "web", "image": "x"}],
            }
        },
        lambda r: [c["name"] for c in r["spec"]["containers"]] == ["side", "web"],
    ),
    (
        "$patch: delete removes one list item by key",
        _pod(WEB, SIDE),
        {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}},
        lambda r: [c["name"] for c in r["spec"]["containers"]] == ["web"],
    ),
    (
        "env is merged by name",
        _pod(WEB),
        {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}},
        lambda r: (
            r["spec"]["containers"][0]["env"]
            == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
        ),
    ),
    (
        "null deletes a key (uncordon)",
        {"spec": {"unschedulable": True, "podCIDR": "10.0.0.0/24"}},
        {"spec": {"unschedulable": None}},
        lambda r: r["spec"] == {"podCIDR": "10.0.0.0/24"},
    ),
    (
        "a merged primitive list (finalizers) is a union",
        _pod(WEB),
        {"metadata": {"finalizers": ["b"]}},
        lambda r: r["metadata"]["finalizers"] == ["a", "b"],
    ),
    (
        "$deleteFromPrimitiveList removes values",
        _pod(WEB),
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
        lambda r: r["metadata"]["finalizers"] == [],
    ),
    (
        "a list without a patch strategy (args) is replaced",
        _pod({**WEB, "args": ["a", "b"]}),
        {"spec": {"containers": [{"name": "web", "args": ["c"]}]}},
        lambda r: r["spec"]["containers"][0]["args"] == ["c"],
    ),
    (
        "$patch: replace on a map replaces it",
        _pod(WEB, nodeSelector={"a": "1", "b": "2"}),
        {"spec": {"nodeSelector": {"$patch": "replace", "c": "3"}}},
        lambda r: r["spec"]["nodeSelector"] == {"c": "3"},
    ),
    (
        "$retainKeys drops keys not listed",
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        lambda r: r["spec"]["strategy"] == {"type": "Recreate"},
    ),
    (
        "a new container is appended without directives",
        _pod(WEB),
        {
            "spec": {
                "containers": [
                    {
                        "name": "new",
                        "image": "x",
                        "env": [{"name": "Z", "value": "1", "$patch": "delete"}],
                    }
                ]
            }
        },
        lambda r: r["spec"]["containers"][1] == {"name": "new", "image": "x", "env": []},
    ),
]


@pytest.mark.parametrize(
    ("why", "original", "body", "check"), STRATEGIC_CASES, ids=[c[0] for c in STRATEGIC_CASES]
)
def test_strategic_merge(
    why: str, original: dict[str, Any], body: dict[str, Any], check: Any
) -> None:
    schema = (
        DEPLOYMENT
        if "strategy" in original.get("spec", {})
        else (
            schemas.kind_schema("v1", "Node")
            if "unschedulable" in original.get("spec", {})
            else POD
        )
    )
    result = patch.strategic_merge(original, body, schema)
    assert check(result), (why, result)


def test_strategic_merge_inside_a_deployment_template() -> None:
    original = {"spec": {"template": {"spec": {"containers": [WEB]}}}}
    body = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "web"}],
                    "containers": [{"image": "nginx:bad", "name": "web"}],
                }
            }
        }
    }
    result = patch.strategic_merge(original, body, DEPLOYMENT)
    assert result["spec"]["template"]["spec"]["containers"] == [{**WEB, "image": "nginx:bad"}]


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    original = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert patch.merge_patch(original, {"a": {"c": [3], "b": None}, "d": None}) == {"a": {"c": [3]}}


JSON_PATCH_CASES = [
    (
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        {"spec": {"replicas": 3, "list": [1, 2]}},
    ),
    (
        [{"op": "add", "path": "/spec/list/-", "value": 9}],
        {"spec": {"replicas": 1, "list": [1, 2, 9]}},
    ),
    (
        [{"op": "add", "path": "/spec/list/0", "value": 0}],
        {"spec": {"replicas": 1, "list": [0, 1, 2]}},
    ),
    ([{"op": "remove", "path": "/spec/list/1"}], {"spec": {"replicas": 1, "list": [1]}}),
    (
        [{"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"}],
        {"spec": {"replicas": 1, "list": [1, 2], "copy": 1}},
    ),
    (
        [{"op": "move", "from": "/spec/replicas", "path": "/spec/moved"}],
        {"spec": {"list": [1, 2], "moved": 1}},
    ),
    (
        [{"op": "test", "path": "/spec/replicas", "value": 1}],
        {"spec": {"replicas": 1, "list": [1, 2]}},
    ),
    (
        [{"op": "add", "path": "/metadata~1x", "value": 1}],
        {"spec": {"replicas": 1, "list": [1, 2]}, "metadata/x": 1},
    ),
]


@pytest.mark.parametrize(("ops", "expected"), JSON_PATCH_CASES)
def test_json_patch(ops: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert patch.json_patch({"spec": {"replicas": 1, "list": [1, 2]}}, ops) == expected


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        ([{"op": "test", "path": "/spec/replicas", "value": 2}], 422),
        ([{"op": "replace", "path": "/spec/missing", "value": 2}], 422),
        ([{"op": "jump", "path": "/spec"}], 400),
        ({"op": "add"}, 400),
    ],
)
def test_json_patch_errors(ops: Any, code: int) -> None:
    with pytest.raises(ApiError) as error:
        patch.json_patch({"spec": {"replicas": 1}}, ops)
    assert error.value.code == code


def test_unknown_patch_type_is_415() -> None:
    with pytest.raises(ApiError) as error:
        patch.apply("text/csv", {}, b"{}", None)
    assert error.value.code == 415 and error.value.reason == "UnsupportedMediaType"


def test_without_schemas_the_common_merge_keys_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "definitions", dict)
    original = {"spec": {"template": {"spec": {"containers": [WEB, SIDE]}}}}
    body = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    result = patch.strategic_merge(original, body, None)
    assert result["spec"]["template"]["spec"]["containers"] == [{**WEB, "image": "nginx:2"}, SIDE]
