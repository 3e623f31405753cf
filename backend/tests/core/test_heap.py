"""freeze_startup_objects: what start-up built leaves the collector's generations."""

from __future__ import annotations

import gc
import weakref

from aido.core.heap import freeze_startup_objects


def test_start_up_objects_are_frozen_and_garbage_is_collected_first() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the cyclic collector can free it

    gc.unfreeze()
    garbage = Node()
    collected = weakref.ref(garbage)
    del garbage
    try:
        frozen = freeze_startup_objects()
        assert frozen > 1000  # this process's modules, classes and functions
        assert gc.get_freeze_count() == frozen
        # The cycle was collected before the freeze, not kept alive for good.
        assert collected() is None
    finally:
        gc.unfreeze()
