"""Project-wide fixtures: the local Salesforce org emulator, real and in-process.

* ``emulator``: a real HTTPS emulator on 127.0.0.1 (free port), module-scoped:
  shared by the tests of one module. Data accumulates across those tests: create
  what you need and do not assume an empty org. Control settings are reset
  before each test that uses it (faults, daily limit, frozen clock, stats).
* ``emulator_fresh``: a real HTTPS emulator with an empty org of its own (per test).
* ``inproc``: an empty org per test, without a socket: ``inproc.session()`` is a
  ``requests.Session`` whose ``https://`` requests call the WSGI app directly.

Each is a ``connector.emulator.testing.EmulatorHandle``: ``instance_url``,
``login_url``, ``ca_path``, ``client_id``, ``client_secret``, ``env()``,
``session()``, ``access_token()``, ``salesforce()`` (simple-salesforce), and the
control helpers ``stats()``, ``reset_stats()``, ``set_faults()``,
``clear_faults()``, ``set_daily_max()``, ``convert_lead()``, ``set_settings()``,
``expire_sessions()``, ``restart()``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from connector.emulator.auth import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, ensure_key_pair
from connector.emulator.server import CA_FILE, CERT_FILE, KEY_FILE, ensure_certificates
from connector.emulator.testing import EmulatorHandle, inprocess_emulator, running_emulator

# pytest-xdist already runs one worker per core: scikit-learn's OpenMP threads on
# top of that oversubscribe the machine (a boosting test ran 2.4x slower)
os.environ.setdefault("OMP_NUM_THREADS", "1")

# A shared, busy CI machine makes any timing flaky: property tests check
# behaviour, not speed, so no per-example deadline and no "generation is slow"
# health check (it failed a plain dictionaries() strategy under load).
hypothesis_settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("shared-machine")

_REUSABLE = (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, CA_FILE, CERT_FILE, KEY_FILE)


@pytest.fixture(scope="session")
def _emulator_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Key pair and certificates made once per test process: fresh orgs copy them
    instead of generating RSA keys each time (the org reuses files it finds)."""
    template = tmp_path_factory.mktemp("emulator-keys")
    ensure_key_pair(template)
    ensure_certificates(template)
    return template


def new_org_dir(parent: Path, keys: Path) -> Path:
    """An empty data directory pre-filled with the test process's keys (0600 kept)."""
    data_dir = parent / "org"
    data_dir.mkdir(mode=0o700)
    for name in _REUSABLE:
        shutil.copy2(keys / name, data_dir / name)
    return data_dir


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory,
             _emulator_keys: Path) -> Iterator[EmulatorHandle]:
    """The module's shared real HTTPS emulator (control settings reset per test)."""
    with running_emulator(new_org_dir(tmp_path_factory.mktemp("emulator"),
                                      _emulator_keys)) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _reset_emulator_controls(request: pytest.FixtureRequest) -> None:
    """A test using the shared ``emulator`` starts without the faults, limits or
    frozen clock an earlier test of the module may have left behind."""
    if "emulator" in request.fixturenames:
        handle: EmulatorHandle = request.getfixturevalue("emulator")
        handle.reset_controls()


@pytest.fixture
def emulator_fresh(tmp_path: Path, _emulator_keys: Path) -> Iterator[EmulatorHandle]:
    """A real HTTPS emulator with an empty org of its own."""
    with running_emulator(new_org_dir(tmp_path, _emulator_keys)) as handle:
        yield handle


@pytest.fixture
def inproc(tmp_path: Path, _emulator_keys: Path) -> Iterator[EmulatorHandle]:
    """An empty org reached without a socket (``inproc.session()``)."""
    with inprocess_emulator(new_org_dir(tmp_path, _emulator_keys)) as handle:
        yield handle
