"""The provider's claims: each test account's name, ID number and kind (from ``OIDC_PROVIDER_CLAIMS``)."""

import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below, whatever the scope

    def get_additional_claims(self, request):
        return json.loads(os.environ["OIDC_PROVIDER_CLAIMS"]).get(request.user.username, {})
