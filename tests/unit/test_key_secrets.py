"""A secret the key store hands out is long enough to be a secret, and stays in its
directory."""

from pathlib import Path

import pytest

from walletguard.kernel.errors import ConfigurationError
from walletguard.keys import KeyStore


@pytest.mark.parametrize("content", ["", "\n", "00", "ab" * 31])
def test_an_empty_or_short_secret_file_is_refused_naming_it(tmp_path: Path, content: str) -> None:
    (tmp_path / "webhook-k1.key").write_text(content)
    with pytest.raises(ConfigurationError, match=r"webhook-k1\.key.*at least 32 bytes"):
        KeyStore(tmp_path).secret("webhook-k1")


@pytest.mark.parametrize("name", ["freeze_link", "otp", "totp", "webhook-k1"])
def test_the_secrets_walletguard_creates_load_again(tmp_path: Path, name: str) -> None:
    created = KeyStore(tmp_path).secret(name)
    assert KeyStore(tmp_path, create=False).secret(name) == created


@pytest.mark.parametrize("name", ["", "../escaped", "a/b", ".hidden"])
def test_a_key_name_is_a_file_name_in_the_key_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match="key name"):
        KeyStore(tmp_path / "keys").secret(name)
    assert list(tmp_path.rglob("*.key")) == []
