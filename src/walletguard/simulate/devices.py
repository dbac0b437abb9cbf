"""Phones as the wallet app reports them: stable ids, real-looking OS and model names."""

from __future__ import annotations

import random
from typing import Any

from walletguard.simulate.ids import IdMint

PHONES: tuple[tuple[str, str, int], ...] = (
    ("Android 14", "Xiaomi 14", 12),
    ("Android 13", "Redmi Note 12 Pro", 10),
    ("HarmonyOS 4.2", "HUAWEI Mate 60 Pro", 12),
    ("HarmonyOS 4.0", "HUAWEI nova 11", 7),
    ("iOS 17.5", "iPhone 15", 10),
    ("iOS 17.4", "iPhone 14 Pro", 8),
    ("iOS 16.7", "iPhone 12", 6),
    ("Android 14", "OPPO Reno11", 7),
    ("Android 13", "OPPO A58", 5),
    ("Android 14", "vivo X100", 7),
    ("Android 13", "vivo Y36", 5),
    ("Android 14", "HONOR 90", 6),
    ("Android 14", "Samsung Galaxy S23", 4),
    ("Android 13", "OnePlus 11", 3),
)
EMULATORS: tuple[tuple[str, str], ...] = (
    ("Android 11", "sdk_gphone_x86_64"),
    ("Android 9", "Android SDK built for x86"),
    ("Android 7.1.2", "SM-G9880"),
    ("Android 9", "MuMu"),
)
APP_VERSIONS: tuple[str, ...] = ("8.2.5", "8.3.1", "8.4.0", "8.4.2")
OLD_APP_VERSIONS: tuple[str, ...] = ("7.9.0", "8.0.3", "8.1.1")
_PHONE_WEIGHTS = [w for _, _, w in PHONES]


def new_phone(rng: random.Random, ids: IdMint) -> dict[str, Any]:
    """An ordinary customer phone: the contract's `device` object."""
    os_name, model, _ = rng.choices(PHONES, weights=_PHONE_WEIGHTS)[0]
    return {
        "id": ids.device(),
        "os": os_name,
        "model": model,
        "app_version": rng.choice(APP_VERSIONS),
        "is_emulator": False,
        "is_rooted": False,
    }


def attacker_device(
    rng: random.Random, ids: IdMint, *, emulator: float, rooted: float
) -> dict[str, Any]:
    """A fraudster's device: with the given chances an emulator or a rooted phone."""
    if rng.random() < emulator:
        os_name, model = rng.choice(EMULATORS)
        is_emulator, is_rooted = True, rng.random() < 0.5
    else:
        os_name, model, _ = rng.choices(PHONES, weights=_PHONE_WEIGHTS)[0]
        is_emulator, is_rooted = False, rng.random() < rooted
    return {
        "id": ids.device(),
        "os": os_name,
        "model": model,
        "app_version": rng.choice(OLD_APP_VERSIONS + APP_VERSIONS),
        "is_emulator": is_emulator,
        "is_rooted": is_rooted,
    }


def app_user_agent(device: dict[str, Any]) -> str:
    """The wallet app's User-Agent header for a device."""
    return f"WalletApp/{device['app_version']} ({device['os']}; {device['model']})"


SCRIPT_USER_AGENTS: tuple[str, ...] = (
    "python-requests/2.31.0",
    "okhttp/4.9.3",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "Go-http-client/1.1",
)
