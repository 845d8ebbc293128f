"""Each provider's official signature vector verifies; one changed byte anywhere is refused."""

import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.reconcile.ingest import signatures as sig
from market.reconcile.ingest.adapters.base import decode_object_noting_floats
from market.reconcile.ingest.signatures import _hmac_hex

# webhooks.md §1.2: the docs' code-sample vector (the schema page's 8d8640d8… is known to be wrong).
PAYOS_KEY = "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675"
PAYOS_DATA = {
    "orderCode": 123,
    "amount": 3000,
    "description": "VQRIO123",
    "accountNumber": "12345678",
    "reference": "TF230204212323",
    "transactionDateTime": "2023-02-04 18:25:00",
    "currency": "VND",
    "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
    "code": "00",
    "desc": "Thành công",
    "counterAccountBankId": "",
    "counterAccountBankName": "",
    "counterAccountName": "",
    "counterAccountNumber": "",
    "virtualAccountName": "",
    "virtualAccountNumber": "",
}
PAYOS_CANONICAL = (
    "accountNumber=12345678&amount=3000&code=00&counterAccountBankId=&counterAccountBankName=&counterAccountName="
    "&counterAccountNumber=&currency=VND&desc=Thành công&description=VQRIO123&orderCode=123"
    "&paymentLinkId=124c33293c43417ab7879e14c8d9eb18&reference=TF230204212323&transactionDateTime=2023-02-04 18:25:00"
    "&virtualAccountName=&virtualAccountNumber="
)
PAYOS_SIGNATURE = "412e915d2871504ed31be63c8f62a149a4410d34c4c42affc9006ef9917eaa03"

# payOSHQ/payos-lib-python tests/_crypto/testCases.json, case "webhook".
PAYOS_SDK_DATA = {
    "accountNumber": "0123456789",
    "amount": 20000,
    "description": "thanh toan",
    "reference": "FT-REFERENCE",
    "transactionDateTime": "2025-12-12 09:00:00",
    "virtualAccountNumber": "",
    "counterAccountBankId": "01202001",
    "counterAccountBankName": "",
    "counterAccountName": "NGUYEN VAN A",
    "counterAccountNumber": "9876543210",
    "virtualAccountName": "",
    "currency": "VND",
    "orderCode": 0,
    "paymentLinkId": "payment-link-id",
    "code": "00",
    "desc": "success",
}

# webhooks.md §2.2: self-generated (SePay's own code block was truncated), exact bytes.
SEPAY_SECRET = "sepay_test_secret_do_not_use"
SEPAY_TIMESTAMP = "1700000000"
SEPAY_BODY = (
    b'{"id":92704,"gateway":"Vietcombank","transactionDate":"2023-03-25 14:02:37","accountNumber":"0123499999",'
    b'"code":"DH7K2Q9X","content":"DH7K2Q9X chuyen tien","transferType":"in","transferAmount":50000,'
    b'"accumulated":19077000,"subAccount":null,"referenceCode":"MBVCB.3278907687","description":""}'
)
SEPAY_SIGNATURE = "sha256=6141ecda069c54b40e7e16f6ade2bb211a5f919d1d3d65c7a67d02aecc4fa3cb"

# CassoHQ/casso-webhook-v2-verify-signature python.py (webhooks.md §3.2).
CASSO_KEY = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"
CASSO_T = "1727948258788"
CASSO_V1 = (
    "ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7"
    "dde0868fc667faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3"
)
CASSO_BODY = {
    "error": 0,
    "data": {
        "id": 0,
        "reference": "MA_GIAO_DICH_THU_NGHIEM",
        "description": "giao dich thu nghiem",
        "amount": 599000,
        "runningBalance": 25000000,
        "transactionDateTime": "2024-10-03 15:06:37",
        "accountNumber": "88888888",
        "bankName": "VPBank",
        "bankAbbreviation": "VPB",
        "virtualAccountNumber": "",
        "virtualAccountName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "8888888888",
        "counterAccountBankId": "970415",
        "counterAccountBankName": "VietinBank",
    },
}


def _flip(text: str, index: int = -1) -> str:
    """The same text with one character changed."""
    chars = list(text)
    chars[index] = "0" if chars[index] != "0" else "1"
    return "".join(chars)


def test_payos_official_vector():
    assert sig.payos_canonical(PAYOS_DATA) == PAYOS_CANONICAL
    assert sig.payos_signature(PAYOS_KEY, PAYOS_DATA) == PAYOS_SIGNATURE
    assert sig.verify_payos(PAYOS_KEY, PAYOS_DATA, PAYOS_SIGNATURE)


def test_payos_sdk_vector():
    assert sig.payos_signature("test_checksum_key", PAYOS_SDK_DATA) == (
        "302b3becca1672dff99daafae2965f40e48ea3ca39453e4bf37fbcc26807a0e8"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 3001), ("description", "VQRIO124"), ("desc", "Thanh công"), ("reference", "TF230204212324")],
)
def test_payos_one_changed_byte_in_data_is_refused(field, value):
    assert not sig.verify_payos(PAYOS_KEY, {**PAYOS_DATA, field: value}, PAYOS_SIGNATURE)


def test_payos_changed_signature_or_key_is_refused():
    assert not sig.verify_payos(PAYOS_KEY, PAYOS_DATA, _flip(PAYOS_SIGNATURE))
    assert not sig.verify_payos(_flip(PAYOS_KEY), PAYOS_DATA, PAYOS_SIGNATURE)


def test_payos_canonical_examples():
    assert sig.payos_canonical({"b": "null", "a": 5, "c{}": "undefined", "d": "x"}) == "a=5&b=&c{}=&d=x"
    assert sig.payos_canonical({"b": True, "a": None}) == "a=&b=true"
    assert sig.payos_canonical({"a": 1}) == "a=1"
    # Each value the rule writes otherwise than %s, beside plain ones.
    for value, written in ((None, ""), (True, "true"), (False, "false"), ("null", ""), ("undefined", "")):
        assert sig.payos_canonical({"z": value, "a": 1, "m": "x"}) == f"a=1&m=x&z={written}"
    assert sig.payos_canonical({"z": [{"b": 1, "a": 2}], "a": 1}) == 'a=1&z=[{"a":2,"b":1}]'
    assert sig.payos_canonical({"z": {"b": 1, "a": 2}, "a": 1}) == 'a=1&z={"a":2,"b":1}'
    assert sig.payos_canonical({"memo": "x=None", "n%s": 2, "e": []}) == "e=[]&memo=x=None&n%s=2"
    assert sig.payos_canonical({"b": 1.5, "a": "50%"}) == "a=50%&b=1.5"
    assert sig.payos_canonical({}) == ""


def test_payos_a_new_field_is_signed_not_rejected():
    # The Python SDK rejects unknown fields before checking; we sign the raw object (webhooks.md §1.2).
    data = {**PAYOS_DATA, "newField": "x"}
    assert sig.verify_payos(PAYOS_KEY, data, sig.payos_signature(PAYOS_KEY, data))
    assert not sig.verify_payos(PAYOS_KEY, data, PAYOS_SIGNATURE)


def test_sepay_vector():
    assert sig.sepay_signature(SEPAY_SECRET, SEPAY_TIMESTAMP, SEPAY_BODY) == SEPAY_SIGNATURE
    assert sig.verify_sepay(SEPAY_SECRET, SEPAY_TIMESTAMP, SEPAY_BODY, SEPAY_SIGNATURE)


@pytest.mark.parametrize("position", [0, 40, len(SEPAY_BODY) - 2])
def test_sepay_one_changed_body_byte_is_refused(position):
    body = bytearray(SEPAY_BODY)
    body[position] ^= 0x01
    assert not sig.verify_sepay(SEPAY_SECRET, SEPAY_TIMESTAMP, bytes(body), SEPAY_SIGNATURE)


def test_sepay_changed_timestamp_or_signature_is_refused():
    assert not sig.verify_sepay(SEPAY_SECRET, "1700000001", SEPAY_BODY, SEPAY_SIGNATURE)
    assert not sig.verify_sepay(SEPAY_SECRET, SEPAY_TIMESTAMP, SEPAY_BODY, _flip(SEPAY_SIGNATURE))


def test_casso_official_vector():
    assert sig.casso_signature(CASSO_KEY, CASSO_T, sig.casso_form(CASSO_BODY, "ascii")) == CASSO_V1
    assert sig.verify_casso(CASSO_KEY, CASSO_T, CASSO_BODY, CASSO_V1) == "ascii"


def test_casso_changed_body_timestamp_or_signature_is_refused():
    changed = json.loads(json.dumps(CASSO_BODY))
    changed["data"]["amount"] = 599001
    assert sig.verify_casso(CASSO_KEY, CASSO_T, changed, CASSO_V1) is None
    assert sig.verify_casso(CASSO_KEY, "1727948258789", CASSO_BODY, CASSO_V1) is None
    assert sig.verify_casso(CASSO_KEY, CASSO_T, CASSO_BODY, _flip(CASSO_V1)) is None


def test_casso_signing_only_data_does_not_match():
    # webhooks.md §3.2: the whole body is signed, not just ``data``.
    assert sig.verify_casso(CASSO_KEY, CASSO_T, CASSO_BODY["data"], CASSO_V1) is None


def test_casso_accepts_the_unescaped_form_of_vietnamese_and_slashes():
    body = {"error": 0, "data": {"id": 7, "description": "TT/DH123/CK", "counterAccountName": "Nguyễn Văn Á"}}
    js_form = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    php_form = json.dumps(body, sort_keys=True, separators=(",", ":")).replace("/", "\\/").encode()
    assert sig.verify_casso("k", "1", body, sig.casso_signature("k", "1", js_form)) == "unicode"
    assert sig.verify_casso("k", "1", body, sig.casso_signature("k", "1", php_form)) == "ascii-escaped-slash"


def test_generic_signature_covers_timestamp_and_raw_body():
    body = b'{"id":"1","amount":5000}'
    good = sig.generic_signature("s", "1700000000", body)
    assert sig.verify_generic("s", "1700000000", body, good)
    assert not sig.verify_generic("s", "1700000001", body, good)
    assert not sig.verify_generic("s", "1700000000", body.replace(b"5000", b"5001"), good)
    assert not sig.verify_generic("s", "1700000000", body, _flip(good))


def _spellings(signature: str) -> tuple[list[str], list[str]]:
    """The same hex MAC in other case (accepted), and near misses that must be refused."""
    head, _, digits = signature.rpartition("=")
    prefix = head + "=" if head else ""
    same = [prefix + digits.upper(), prefix + digits.lower()]
    wrong = [
        prefix + digits[:10] + " " + digits[10:],  # whitespace that bytes.fromhex would skip
        prefix + digits[:10] + " " + digits[11:],
        prefix + digits[:-2],  # one byte short
        prefix + digits + "00",  # one byte more
        prefix + digits[:-1] + "g",  # not hex
        prefix + digits[:-1] + "\u0661",  # a digit, but not a hex one
        prefix,
    ]
    return same, wrong


def test_every_provider_takes_its_hex_signature_in_either_case_and_nothing_near_it():
    generic_good = sig.generic_signature("s", "1700000000", b"{}")
    checks = [
        (lambda value: sig.verify_payos(PAYOS_KEY, PAYOS_DATA, value), PAYOS_SIGNATURE),
        (lambda value: sig.verify_sepay(SEPAY_SECRET, SEPAY_TIMESTAMP, SEPAY_BODY, value), SEPAY_SIGNATURE),
        (lambda value: sig.verify_casso(CASSO_KEY, CASSO_T, CASSO_BODY, value) is not None, CASSO_V1),
        (lambda value: sig.verify_generic("s", "1700000000", b"{}", value), generic_good),
    ]
    for verify, signature in checks:
        same, wrong = _spellings(signature)
        assert all(verify(value) for value in same), signature
        assert not any(verify(value) for value in wrong), signature
    assert not sig.verify_sepay(SEPAY_SECRET, SEPAY_TIMESTAMP, SEPAY_BODY, SEPAY_SIGNATURE.removeprefix("sha256="))
    assert not sig.verify_sepay(SEPAY_SECRET, SEPAY_TIMESTAMP, SEPAY_BODY, "sha512=" + SEPAY_SIGNATURE[7:])


def test_timed_header_parsing():
    assert sig.parse_timed_header("t=1727948258788,v1=abc") == ("1727948258788", "abc")
    assert sig.parse_timed_header(" v1=abc , t=12 ") == ("12", "abc")
    assert sig.parse_timed_header("t=soon,v1=abc") is None
    assert sig.parse_timed_header("v1=abc") is None
    assert sig.parse_timed_header("t=\u00b2,v1=abc") is None  # a digit to isdigit(), not to int()
    assert sig.parse_timed_header("t=\u0663,v1=abc") is None  # Arabic-Indic three


@given(st.text(alphabet="tv1=, \t0123456789abcdefx\u00b2\u0663", max_size=40))
def test_timed_header_fast_path_agrees_with_the_general_parser(value: str) -> None:
    parsed = sig.parse_timed_header(value)
    assert parsed == sig._parse_timed_header_parts(value)
    if parsed is not None:
        int(parsed[0])  # never raises: the callers turn it into a time


def test_bearer_token_expires_and_resists_tampering():
    token = sig.sign_token("secret", "vietqr", expires_at=1000)
    assert sig.verify_token("secret", token, now_seconds=999, subjects=["vietqr"])
    assert not sig.verify_token("secret", token, now_seconds=1000, subjects=["vietqr"])
    assert not sig.verify_token("other", token, now_seconds=999, subjects=["vietqr"])
    assert not sig.verify_token("secret", token, now_seconds=999, subjects=["someone"])
    payload, signature = token.split(".")
    assert not sig.verify_token("secret", f"{payload}.{_flip(signature)}", now_seconds=999, subjects=["vietqr"])
    assert not sig.verify_token("secret", "garbage", now_seconds=0, subjects=["vietqr"])


@given(
    key=st.text(max_size=200),  # past SHA-512's 128-byte block too: such keys are hashed first
    message=st.binary(max_size=600),
    digest=st.sampled_from(["sha256", "sha512"]),
)
def test_hmac_from_precomputed_pads_is_the_standard_hmac(key: str, message: bytes, digest: str) -> None:
    # The signatures use key pads worked out once per key; they must be exactly RFC 2104's HMAC.
    assert _hmac_hex(key, message, digest) == hmac.new(key.encode(), message, digest).hexdigest()


def test_hmac_pads_are_not_changed_by_use() -> None:
    # Each signature works on copies of the cached states: the same input signs the same way twice.
    first = _hmac_hex("secret", b"one body", "sha256")
    _hmac_hex("secret", b"another body", "sha256")
    assert _hmac_hex("secret", b"one body", "sha256") == first


_JSON_TEXT = st.text(alphabet='ab/:,[.e1\\u\u00e9\u1ec7\x00\x7f\n"', max_size=12)
_CASSO_BODIES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_JSON_TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(_JSON_TEXT, _CASSO_BODIES, max_size=4))
def test_casso_candidates_are_each_distinct_form_once_under_its_name(body: dict[str, object]) -> None:
    # Every distinct form is tried once, in CASSO_FORMS order, under the first name that writes it.
    first_name: dict[bytes, str] = {}
    for name in sig.CASSO_FORMS:
        first_name.setdefault(sig.casso_form(body, name), name)
    assert list(sig.casso_candidates(body)) == [(name, text) for text, name in first_name.items()]


@given(st.dictionaries(_JSON_TEXT, _CASSO_BODIES, max_size=4))
def test_casso_fast_serialisation_is_used_only_where_it_is_pythons(body: dict[str, object]) -> None:
    fast = sig._sorted_ascii(body, None)
    if fast is not None:
        assert fast == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def test_casso_fast_serialisation_takes_plain_ascii_and_leaves_the_rest():
    plain = {"error": 0, "data": {"id": 7, "description": 'TT/DH123 "CK"\n', "amount": -50000, "ok": True}}
    assert sig._sorted_ascii(plain, None) == sig.casso_form(plain, "ascii")
    assert sig._sorted_ascii({"amount": 1.5}, None) is None  # floats: 1e16 against 1e+16
    assert sig._sorted_ascii({"name": "Nguyễn"}, None) is None
    assert sig._sorted_ascii({"name": "a\x7f"}, None) is None


def _holds_float(value: object) -> bool:
    if isinstance(value, dict):
        return any(_holds_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_float(v) for v in value)
    return isinstance(value, float)


@given(st.dictionaries(_JSON_TEXT, _CASSO_BODIES, max_size=4))
def test_the_casso_decoder_notes_exactly_the_bodies_holding_a_float(body: dict[str, object]) -> None:
    # The adapter hands this note to verify_casso instead of looking through the body itself.
    decoded, floats = decode_object_noting_floats(json.dumps(body).encode())
    assert decoded == body
    assert floats == _holds_float(body)
    assert list(sig.casso_candidates(decoded, floats=floats)) == list(sig.casso_candidates(decoded))


def test_casso_records_the_form_that_was_signed():
    # ASCII text with a slash: ascii and unicode are one form, PHP's escaped slash another.
    body = {"error": 0, "data": {"id": 7, "description": "TT/DH123/CK"}}
    php_form = sig.casso_form(body, "ascii-escaped-slash")
    assert sig.verify_casso("k", "1", body, sig.casso_signature("k", "1", php_form)) == "ascii-escaped-slash"


_PAYOS_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.sampled_from(["null", "undefined", "", "CK/TT 1", "Nguyễn", "None", "x=None", "True", "%s", "[", "{}"])
    | st.lists(st.dictionaries(st.sampled_from("ba"), st.integers(), max_size=2), max_size=2)
    | st.dictionaries(st.sampled_from("ba"), st.integers(), max_size=2)
)


@given(st.dictionaries(st.text(alphabet="abcXYZ{}%=", min_size=1, max_size=5), _PAYOS_VALUES, max_size=8))
def test_payos_canonical_writes_every_value_as_the_general_rule_does(data: dict[str, object]) -> None:
    # Also the plain case the canonical string is written quickly for: text and whole numbers only.
    plain = {key: value for key, value in data.items() if type(value) in (str, int)}
    assert sig.payos_canonical(plain) == "&".join(f"{key}={sig._payos_value(plain[key])}" for key in sorted(plain))
    expected = "&".join(f"{key}={sig._payos_value(data[key])}" for key in sorted(data))
    assert sig.payos_canonical(data) == expected
