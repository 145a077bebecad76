import pytest

# The recorder contract is a shared suite, not a test module: its asserts explain failures too.
pytest.register_assert_rewrite("integration.recorder_contract")
