from crm.signing import sign, verify

# GitHub's documented webhook example (docs.github.com, "Validating webhook deliveries"):
# secret "It's a Secret to Everybody", payload "Hello, World!".
SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
EXPECTED = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_the_signature_matches_a_known_vector() -> None:
    assert sign(BODY, SECRET) == EXPECTED


def test_verify_accepts_the_signature_and_nothing_else() -> None:
    assert verify(BODY, SECRET, EXPECTED)
    assert not verify(BODY + b" ", SECRET, EXPECTED)
    assert not verify(BODY, SECRET + "x", EXPECTED)
    assert not verify(BODY, SECRET, EXPECTED.removeprefix("sha256="))
    assert not verify(BODY, SECRET, None)
    assert not verify(BODY, SECRET, "")


def test_the_signature_is_over_the_raw_utf8_bytes() -> None:
    body = '{"text":"¿dónde está mi pedido?"}'.encode()
    assert verify(body, "s", sign(body, "s"))
    assert sign(body, "s") != sign(body.decode().encode("latin-1", "replace"), "s")
