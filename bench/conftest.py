import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "ratio: prints a ratio against a baseline measured in the same run")


@pytest.fixture(scope="session")
def report():
    """Collect 'name: value' lines and print them at the end of the session."""
    lines: list[str] = []
    yield lines.append
    if lines:
        print("\n" + "\n".join(["== ratios measured in this run =="] + lines))
