"""Reference codes: shape, alphabet, the check symbol's guarantees, and the one-edit neighbourhood."""

import random

import pytest
from matching_helpers import code

from market.reconcile.matching import references

SAMPLE = [code(seed) for seed in range(60)]


def test_codes_are_nine_symbols_with_the_prefix_and_fit_the_shortest_memo_limit():
    for value in SAMPLE:
        assert len(value) == 9 == references.CODE_LENGTH  # payOS leaves 9 characters to the merchant
        assert value.startswith("P")
        assert set(value) <= set(references.ALPHABET)
        assert references.is_valid(value)


def test_the_alphabet_has_no_look_alikes_no_vowels_and_no_telex_modifiers():
    for pair in ["0O", "0Q", "OQ", "1I", "1L", "IL", "5S", "2Z", "8B", "UV"]:
        assert not set(pair) <= set(references.ALPHABET), pair
    assert not set(references.ALPHABET) & set("AEIOUY")  # Telex/VNI turn keys after a vowel into tone marks
    assert not set(references.ALPHABET) & set("DFJRSWXZ")
    assert len(set(references.ALPHABET)) == len(references.ALPHABET) == 17  # a prime: the check is a field equation


def test_new_code_uses_the_random_source_and_avoids_codes_in_use():
    first = references.new_code(randbelow=random.Random(1).randrange)
    again = references.new_code(taken={first}, randbelow=random.Random(1).randrange)
    assert again != first
    assert references.is_valid(again)
    drawn = {references.new_code() for _ in range(200)}
    assert len(drawn) == 200


@pytest.mark.parametrize("value", SAMPLE[:20])
def test_every_single_substitution_is_detected(value):
    for position in range(references.CODE_LENGTH):
        for symbol in references.ALPHABET:
            if symbol != value[position]:
                assert not references.is_valid(value[:position] + symbol + value[position + 1 :])


@pytest.mark.parametrize("value", SAMPLE)
def test_every_transposition_is_detected(value):
    for i in range(references.CODE_LENGTH):
        for j in range(i + 1, references.CODE_LENGTH):
            if value[i] != value[j]:
                swapped = list(value)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert not references.is_valid("".join(swapped)), (value, i, j)


def test_validation_refuses_wrong_shapes():
    valid = SAMPLE[0]
    assert not references.is_valid(valid[:-1])
    assert not references.is_valid(valid + "2")
    assert not references.is_valid("Q" + valid[1:])
    assert not references.is_valid(valid.lower())


def test_typed_separators_and_case_are_normalised():
    valid = SAMPLE[3]
    typed = f"{valid[:3].lower()}-{valid[3:6]} {valid[6:]}"
    assert references.normalise_code(typed) == valid


def _one_edit_variants(value: str, rng: random.Random) -> list[tuple[str, str]]:
    position = rng.randrange(1, references.CODE_LENGTH)
    other = rng.choice([s for s in references.ALPHABET + "0OAI" if s != value[position]])
    swap = rng.randrange(1, references.CODE_LENGTH - 1)
    return [
        ("substitution", value[:position] + other + value[position + 1 :]),
        ("transposition", value[:swap] + value[swap + 1] + value[swap] + value[swap + 2 :]),
        ("omission", value[:position] + value[position + 1 :]),
        ("extra", value[:position] + other + value[position:]),
        ("prefix substituted", "K" + value[1:]),
        ("prefix dropped", value[1:]),
    ]


@pytest.mark.parametrize("value", SAMPLE[:30])
def test_near_codes_recovers_the_code_from_any_single_edit(value):
    rng = random.Random(value)
    for kind, typed in _one_edit_variants(value, rng):
        if typed == value:
            continue
        text = typed + "MUARAU"  # the payer's words follow the code, glued by the bank
        assert value in references.near_codes(text, 0), kind


def test_near_codes_candidates_are_all_valid_and_few():
    rng = random.Random(5)
    sizes = []
    for value in SAMPLE:
        for _, typed in _one_edit_variants(value, rng):
            found = references.near_codes(typed + "TT", 0)
            assert all(references.is_valid(candidate) for candidate in found)
            sizes.append(len(set(found)))
    # The check cuts the 500-odd strings at distance one down to a handful of valid codes.
    assert max(sizes) <= 40
    assert sum(sizes) / len(sizes) < 20


def test_near_codes_matches_brute_force_on_prefixed_windows():
    rng = random.Random(11)
    for value in SAMPLE[:25]:
        for _, typed in _one_edit_variants(value, rng)[:4]:
            text = typed + "".join(rng.choice(references.ALPHABET + "AO1") for _ in range(2))
            assert set(references.near_codes(text, 0)) - {text[:9]} == _brute_force(text) - {text[:9]}


def _brute_force(text: str) -> set[str]:
    found = set()
    symbols = references.ALPHABET
    nine, eight, ten = text[:9], text[:8], text[:10]
    for i in range(9):
        found |= {nine[:i] + s + nine[i + 1 :] for s in symbols}
        found |= {eight[:i] + s + eight[i:] for s in symbols}
    found |= {nine[:i] + nine[i + 1] + nine[i] + nine[i + 2 :] for i in range(8)}
    found |= {ten[:i] + ten[i + 1 :] for i in range(10)} if len(ten) == 10 else set()
    return {candidate for candidate in found if references.is_valid(candidate)}
