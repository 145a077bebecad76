"""A RISITI_ variable that no setting reads is named, not passed over (risiti.config)."""

from __future__ import annotations

from risiti.config import unknown_variables


def test_a_misspelt_variable_is_named_with_the_setting_it_was_meant_for() -> None:
    sentences = unknown_variables({"RISITI_DATABSE_URL": "postgresql://db/risiti"})

    assert sentences == [
        "RISITI_DATABSE_URL is not a Risiti setting and is ignored;"
        " did you mean RISITI_DATABASE_URL?"
    ]


def test_a_variable_like_no_setting_is_named_alone() -> None:
    assert unknown_variables({"RISITI_XYZZY": "1"}) == [
        "RISITI_XYZZY is not a Risiti setting and is ignored"
    ]


def test_settings_in_any_case_and_the_variables_risiti_dev_prints_pass_without_a_word() -> None:
    environ = {
        "RISITI_PORT": "8000",
        "risiti_log_level": "debug",
        "RISITI_URL": "http://127.0.0.1:8000",
        "RISITI_TEST_KEY": "sk_test_x",
        "RISITI_METRICS": "http://127.0.0.1:8000/metrics",
        "PATH": "/usr/bin",
    }

    assert unknown_variables(environ) == []
