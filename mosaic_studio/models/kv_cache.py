"""Key/value caches of growing conversations, reused across turns instead of re-encoding.

Each entry holds the token ids a cache covers and its per-layer key/value tensors
(`[1, heads, length, head_dim]`, unpadded). A new prompt reuses the entry with the longest
common token prefix (verified token by token, so a changed history or a different
re-tokenisation of generated text only shortens the reused part); rows of a batch are
left-padded into one `DynamicCache`. Entries are evicted oldest first past a token budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

MIN_REUSE = 8  # shorter shared prefixes are not worth the bookkeeping


@dataclass
class CacheEntry:
    """The key/value tensors of one conversation prefix."""

    ids: list[int]
    layers: list[tuple[torch.Tensor, torch.Tensor]]


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    """An LRU of conversation caches bounded by the total number of cached tokens."""

    def __init__(self, max_tokens: int = 16_384) -> None:
        self.max_tokens = max_tokens
        self.entries: list[CacheEntry] = []
        self.hits = 0
        self.reused_tokens = 0

    def take(self, ids: list[int]) -> tuple[CacheEntry | None, int]:
        """Remove and return the entry sharing the longest prefix with `ids`, and that length.

        At least one token of `ids` is always left to encode.
        """
        best: CacheEntry | None = None
        best_len = 0
        for entry in self.entries:
            shared = min(common_prefix(entry.ids, ids), len(ids) - 1)
            if shared > best_len:
                best, best_len = entry, shared
        if best is None or best_len < MIN_REUSE:
            return None, 0
        self.entries.remove(best)
        self.hits += 1
        self.reused_tokens += best_len
        return best, best_len

    def put(self, entry: CacheEntry) -> None:
        if not entry.ids or len(entry.ids) > self.max_tokens:
            return
        self.entries.append(entry)
        while sum(len(e.ids) for e in self.entries) > self.max_tokens:
            self.entries.pop(0)

    def clear(self) -> None:
        self.entries.clear()


def build_batch_cache(
    rows: list[tuple[CacheEntry | None, int]], config: Any
) -> tuple[Any, int] | None:
    """Left-pad each row's reused prefix into one `DynamicCache`; None when no row reuses."""
    import torch
    from transformers import DynamicCache

    width = max(length for _, length in rows)
    if width == 0:
        return None
    template = next(entry for entry, length in rows if entry is not None and length > 0)
    keys_per_layer: list[list[torch.Tensor]] = [[] for _ in template.layers]
    values_per_layer: list[list[torch.Tensor]] = [[] for _ in template.layers]
    for entry, length in rows:
        for layer, (k_ref, v_ref) in enumerate(template.layers):
            shape_k = (1, k_ref.shape[1], width, k_ref.shape[3])
            shape_v = (1, v_ref.shape[1], width, v_ref.shape[3])
            k = torch.zeros(shape_k, dtype=k_ref.dtype)
            v = torch.zeros(shape_v, dtype=v_ref.dtype)
            if entry is not None and length > 0:
                k[:, :, width - length :] = entry.layers[layer][0][:, :, :length]
                v[:, :, width - length :] = entry.layers[layer][1][:, :, :length]
            keys_per_layer[layer].append(k)
            values_per_layer[layer].append(v)
    cache = DynamicCache(config=config)
    for layer in range(len(template.layers)):
        cache.update(
            torch.cat(keys_per_layer[layer], dim=0),
            torch.cat(values_per_layer[layer], dim=0),
            layer,
        )
    return cache, width


def extract_row(cache: Any, row: int, positions: torch.Tensor, ids: list[int]) -> CacheEntry:
    """Copy one row's valid positions out of a batched cache (padding dropped)."""
    layers = []
    for layer in cache.layers:
        k = layer.keys[row : row + 1].index_select(2, positions).clone()
        v = layer.values[row : row + 1].index_select(2, positions).clone()
        layers.append((k, v))
    return CacheEntry(ids=ids, layers=layers)
