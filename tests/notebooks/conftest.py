"""The notebooks run against the same demo store as the API tests."""

from tests.observatory_api.conftest import api_store  # noqa: F401  (a shared session fixture)
