"""The shared limits and patterns are defined once and used by everyone who checks them."""

from __future__ import annotations

import pytest

from swimscale import formats


@pytest.mark.parametrize("code", ["ny", "yo", "hau", "en"])
def test_a_language_code_is_two_or_three_lower_case_letters(code):
    assert formats.LANGUAGE_CODE.match(code)


@pytest.mark.parametrize("code", ["", "y", "NY", "Ny", "abcd", "..", "y/", ".ny", "ny\n", "n1", "ñy"])
def test_anything_else_is_not_a_language_code(code):
    assert not formats.LANGUAGE_CODE.match(code)


def test_the_users_check_the_shared_definitions():
    from swimscale.analysis import _bootstrap, _inference
    from swimscale.analysis.report import _beside
    from swimscale.config import _checks

    assert _bootstrap.MAX_UNDEFINED_SHARE is _inference.MAX_UNDEFINED_SHARE is formats.MAX_UNDEFINED_SHARE == 0.05
    assert _checks.LANGUAGE_CODE is _beside.LANGUAGE_CODE is formats.LANGUAGE_CODE
    assert formats.LANGUAGE_CODE.pattern == rf"^{formats.LANGUAGE_CODE_PATTERN}\Z"
