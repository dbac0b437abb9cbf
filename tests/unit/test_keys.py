import stat
from pathlib import Path

import pytest

from walletguard.kernel.errors import ConfigurationError
from walletguard.keys import KeyStore


def test_keys_are_created_once_private_and_reported(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    secret = store.secret("freeze_link")
    signer = store.signing_key("audit")
    assert len(secret) == 32
    assert {p.name for p in store.created} == {"freeze_link.key", "audit.pem"}
    for path in store.created:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = KeyStore(tmp_path / "keys")
    assert again.secret("freeze_link") == secret
    assert (
        again.signing_key("audit").public_key().public_bytes_raw()
        == signer.public_key().public_bytes_raw()
    )
    assert again.created == []


def test_a_missing_key_is_an_error_when_creation_is_off(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        KeyStore(tmp_path, create=False).secret("nope")
