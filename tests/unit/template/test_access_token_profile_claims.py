"""``AccessTokenProfileClaims``: the template parameter behind ACCESS_TOKEN_PROFILE_CLAIMS."""

from __future__ import annotations

import re

from auth_core.settings import Settings
from tests.unit.template.cfn import Doc
from tests.unit.template.test_template import environment


def test_access_token_profile_claims_reach_both_token_functions(template: Doc, functions: Doc) -> None:
    """Both functions that sign access tokens get it (a refresh must carry what the code
    redemption's token carried), and what the pattern lets through has the form Settings reads."""
    p = template["Parameters"]["AccessTokenProfileClaims"]
    assert p["Default"] == ""
    pattern = re.compile(p["AllowedPattern"])
    assert pattern.fullmatch("email department") and not pattern.fullmatch("email,department")
    assert not pattern.fullmatch("email-x")
    read = Settings.from_env({"ACCESS_TOKEN_PROFILE_CLAIMS": "email department"})
    assert read.access_token_profile_claims == ("email", "department")
    for name in ("IssueTokenFunction", "RefreshTokenFunction"):
        env = environment(template, functions[name])
        assert env["ACCESS_TOKEN_PROFILE_CLAIMS"] == {"Ref": "AccessTokenProfileClaims"}
