"""The control loops of the simulated cluster, each a client of the store like kube-controller-manager's."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from local_cloud.gke.events import EventRecorder
from local_cloud.gke.store import ObjectStore
from local_cloud.gke.view import ClusterView


@dataclass
class Context:
    """What every controller works with: the store, its cache, events, randomness, pod deletion."""

    store: ObjectStore
    view: ClusterView
    recorder: EventRecorder
    rng: random.Random
    delete_pod: Callable[[str, str], None]  # graceful deletion, as the API's DELETE does

    def now(self) -> float:
        return self.store.clock.now()
