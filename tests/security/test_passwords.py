"""Passwords are stored as argon2id hashes at a cost that resists offline guessing."""

from argon2 import Type, extract_parameters

from portal.security import passwords


def test_production_hashes_are_argon2id_at_least_at_owasp_minimum_cost():
    # The decoy hash is made at import time with the production hasher (the tests swap in a cheaper one).
    parameters = extract_parameters(passwords._DUMMY_HASH)
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= 19 * 1024  # KiB
    assert parameters.time_cost >= 2


def test_hashes_verify_only_the_right_password():
    stored = passwords.hash_password("a long and memorable phrase")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a long and memorable phrase")
    assert not passwords.verify_password(stored, "a long and memorable phrasE")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not a hash", "anything at all")
