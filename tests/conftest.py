from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_report_header(config):
    import fastka

    return [f"fastka {fastka.__version__} from {Path(fastka.__file__).parent}, native core: {fastka.backend}"
            + (f" ({fastka.backend_reason})" if fastka.backend_reason else "")]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
