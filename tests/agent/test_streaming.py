"""Per-row incremental decoding with stop strings, and the prefix cache's bookkeeping."""

from __future__ import annotations

from mosaic_studio.models.kv_cache import MIN_REUSE, CacheEntry, PrefixCache, common_prefix
from mosaic_studio.models.streaming import RowDecoder
from sandboxes.agent_format import STOP_STRINGS

# a toy tokenizer: token i is the i-th piece; 0 is end-of-turn
PIECES = ["<eot>", "<answer>", "Par", "is", "</ans", "wer>", " and", " more", "\u00e9"]


def decode(ids: list[int]) -> str:
    return "".join(PIECES[i] for i in ids if i != 0)


def test_row_decoder_streams_deltas_and_stops_on_the_closing_tag() -> None:
    deltas: list[str] = []
    row = RowDecoder(decode, [0], STOP_STRINGS, on_delta=deltas.append)
    for token in [1, 2, 3, 4, 5, 6, 7]:
        row.push(token)
    assert row.done and row.stopped
    assert row.text() == "<answer>Paris</answer>"
    assert "".join(deltas) == "<answer>Paris</answer>"
    assert row.ids == [1, 2, 3, 4, 5]  # tokens after the stop are ignored


def test_row_decoder_end_of_turn_and_length() -> None:
    row = RowDecoder(decode, [0], STOP_STRINGS)
    for token in [2, 3, 0, 6]:
        row.push(token)
    assert row.stopped and row.text() == "Paris" and row.ids == [2, 3, 0]
    open_ended = RowDecoder(decode, [0], STOP_STRINGS)
    for token in [6, 7, 8]:
        open_ended.push(token)
    assert not open_ended.done and open_ended.text() == " and more\u00e9"


def test_row_decoder_holds_back_partial_characters() -> None:
    deltas: list[str] = []
    pieces = {1: "ab", 2: "\ufffd", 3: "c"}
    row = RowDecoder(lambda ids: "".join(pieces[i] for i in ids), [], STOP_STRINGS, deltas.append)
    row.push(1)
    row.push(2)
    assert deltas == ["ab"]
    pieces[2] = "\u00e9"  # the next token completes the character
    row.push(3)
    assert "".join(deltas) == "ab\u00e9c"


def test_prefix_cache_reuses_the_longest_verified_prefix() -> None:
    cache = PrefixCache(max_tokens=100)
    base = list(range(1, 21))
    cache.put(CacheEntry(ids=base, layers=[]))
    cache.put(CacheEntry(ids=[*base[:10], 99, 98], layers=[]))
    entry, length = cache.take([*base, 50, 51])
    assert entry is not None and entry.ids == base and length == 20
    assert len(cache.entries) == 1  # taken entries leave the cache
    # an identical prompt still leaves one token to encode
    cache.put(CacheEntry(ids=base, layers=[]))
    assert cache.take(list(base))[1] == 19
    # a short shared prefix (just the system header) is not reused
    assert cache.take([*base[: MIN_REUSE - 1], 7, 7, 7]) == (None, 0)


def test_prefix_cache_evicts_oldest_past_its_budget() -> None:
    cache = PrefixCache(max_tokens=30)
    for start in (0, 100, 200):
        cache.put(CacheEntry(ids=list(range(start, start + 12)), layers=[]))
    assert [e.ids[0] for e in cache.entries] == [100, 200]
    cache.put(CacheEntry(ids=list(range(40)), layers=[]))  # larger than the budget: not kept
    assert len(cache.entries) == 2
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
