"""The platform's MD5 signature rule against the shared vectors and the protocol's text."""

import json

import pytest

from parkingops.pcloud import signing

SECRETS = ["demo-secret-7f3a", "older-secret-1"]


def test_every_vector_with_params_builds_its_string_to_sign_and_sign(vectors):
    checked = 0
    for vector in vectors["vectors"]:
        params = vector.get("params") or vector.get("json_body")
        if params is None or "expect_code" in vector:
            continue
        if "string_to_sign" in vector:
            assert signing.string_to_sign(params, vector["secret"]) == vector["string_to_sign"]
        assert signing.sign_params(params, vector["secret"]) == vector["sign"], vector["name"]
        assert signing.verify_params(params, vector["sign"], [vector["secret"]])
        checked += 1
    assert checked == 3


def test_header_vector_signs_the_raw_body(vectors):
    (vector,) = [v for v in vectors["vectors"] if "authorization" in v]
    body = vector["raw_body_utf8"].encode("utf-8")

    assert signing.sign_body(body, vector["secret"]) == vector["authorization"]
    assert signing.verify_body(body, vector["authorization"], SECRETS)
    assert signing.verify_body(body, vector["authorization"].lower(), SECRETS)
    assert not signing.verify_body(body + b" ", vector["authorization"], SECRETS)


def test_tampered_vector_does_not_verify(vectors):
    (vector,) = [v for v in vectors["vectors"] if v.get("expect_reason") == "bad_signature"]

    assert not signing.verify_params(vector["params"], vector["params"]["sign"], SECRETS)


@pytest.mark.parametrize("index", [0, 1])
def test_platform_published_examples_are_reproduced_exactly(vectors, index):
    example = vectors["platform_examples"][index]

    sign = signing.sign_params(example["params"], example["secret"])

    assert sign == example["sign"].upper()
    if "string_to_sign" in example:
        assert (
            signing.string_to_sign(example["params"], example["secret"])
            == (example["string_to_sign"])
        )
    # Published in lower case on the open-API page: verification ignores case.
    assert signing.verify_params(example["params"], example["sign"], [example["secret"]])


def test_protocol_worked_example_string_and_sign():
    params = {
        "park_uuid": "49f0cc52-e8c7-41e3-b54d-af666b8cc11a",
        "pay_serial": "20210421164242075523115813",
        "discounts": "[]",
        "pay_value": "100",
        "parking_serial": "591668151763415041",
        "app_id": "op00961963581daa7",
        "sign_type": "MD5",
        "park_name": "P云支付体验-停车场",
        "timestamp": "1618994562891",
        "pay_time": "1618994563000",
        "plate": "川A660P1",
        "channel": "200102",
        "identity": "5aeV05nlt6/ig4LplITisYg=",
        "sign": "anything: the sign field itself is never signed",
    }

    text = signing.string_to_sign(params, "demo-secret-7f3a")

    assert text.startswith("app_id=op00961963581daa7&channel=200102&discounts=[]&")
    assert text.endswith("&timestamp=1618994562891&app_secret=demo-secret-7f3a")
    assert "sign=" not in text.replace("sign_type=", "")
    assert signing.sign_params(params, "demo-secret-7f3a") == "F13D21E00DCC8DA7D574F68F1E7EC54A"


def test_empty_and_null_values_are_left_out_but_zero_and_false_are_not():
    params = {"b": "", "a": None, "c": 0, "d": False, "e": [], "f": {}}

    assert signing.string_to_sign(params, "s") == "c=0&d=false&e=[]&f={}&app_secret=s"


def test_values_are_rendered_as_compact_json_with_non_ascii_kept():
    params = {"n": 2500, "x": 1.5, "t": True, "l": [{"a": "肯德基", "b": 1}], "s": "a b&c"}

    text = signing.string_to_sign(params, "k")

    assert text == 'l=[{"a":"肯德基","b":1}]&n=2500&s=a b&c&t=true&x=1.5&app_secret=k'


def test_keys_are_sorted_by_code_point():
    params = {"b": "1", "B": "2", "a_b": "3", "ab": "4", "停": "5"}

    assert signing.string_to_sign(params, "k") == "B=2&a_b=3&ab=4&b=1&停=5&app_secret=k"


def test_signature_is_upper_case_hex_md5():
    sign = signing.sign_params({"a": "1"}, "k")

    assert len(sign) == 32
    assert sign == sign.upper()
    int(sign, 16)


def test_verification_is_case_insensitive_and_ignores_surrounding_blanks():
    params = {"a": "1", "b": "x"}
    sign = signing.sign_params(params, SECRETS[0])

    assert signing.verify_params(params, sign.lower(), SECRETS)
    assert signing.verify_params(params, f" {sign}\n", SECRETS)


def test_any_of_the_rotated_secrets_verifies():
    params = {"a": "1"}

    assert signing.verify_params(params, signing.sign_params(params, SECRETS[1]), SECRETS)
    assert signing.verify_params(params, signing.sign_params(params, SECRETS[0]), SECRETS)
    assert not signing.verify_params(params, signing.sign_params(params, "other"), SECRETS)
    assert not signing.verify_params(params, signing.sign_params(params, SECRETS[0]), [])


@pytest.mark.parametrize("signature", [None, 123, ["A"], {"a": 1}, "", "zz" * 16, "é" * 32])
def test_a_signature_that_is_not_hex_text_never_verifies_nor_raises(signature):
    params = {"a": "1"}

    assert not signing.verify_params(params, signature, SECRETS)
    assert not signing.verify_body(b"{}", signature, SECRETS)


def test_json_number_and_its_string_sign_the_same():
    as_number = {"pay_value": 100, "discounts": []}
    as_string = {"pay_value": "100", "discounts": json.dumps([])}

    assert signing.sign_params(as_number, "k") == signing.sign_params(as_string, "k")
