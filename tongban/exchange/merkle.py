"""The RFC 6962 Merkle tree functions live in :mod:`tongban.core.merkle` (shared by exchange's access log and
supervision's draw log); this module keeps exchange's imports working."""

from tongban.core.merkle import *  # noqa: F403
from tongban.core.merkle import (  # noqa: F401 - re-exported names used as ``merkle.<name>``
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    nodes_needed,
    perfect_pieces,
    range_hash,
    root_from_leaf_hashes,
    split_point,
    verify_consistency,
    verify_inclusion,
)
