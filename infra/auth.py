"""Sign-in for the dashboard and API: a Cognito user pool (groups `admin` and `viewer`, strong
passwords, optional TOTP MFA, no self sign-up), its hosted sign-in domain, and a public app client for
the SPA (authorization-code flow; Cognito enforces PKCE for clients without a secret when the SPA
sends a code challenge, as oidc-client-ts does).

Group membership reaches the handlers as the `cognito:groups` JWT claim; `vigil.api` maps `admin` to
write access and `viewer` to read-only.

Must not import anything from `vigil/`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.acknowledge import acknowledge
from infra.settings import Settings

GROUPS = {
    "admin": "Can change rules, channels, keys and dashboards",
    "viewer": "Read-only access to the dashboard and API",
}


class Auth(Construct):
    """User pool + groups + hosted domain + SPA client; `callback_origins` are the allowed sign-in
    return origins (the CloudFront URL first)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        callback_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # admins invite users (docs/deploy.md)
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=settings.is_prod,
            removal_policy=RemovalPolicy.RETAIN if settings.keeps_data else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional by product decision (issue 6): every user can enrol a TOTP app, and "
            "operators who need it can switch the pool to required without redeploying Vigil.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan (threat protection) bills per monthly active user, above the cost "
            "of the rest of the stack for a small team; strong passwords and optional MFA are kept.",
        )
        for name, description in GROUPS.items():
            cognito.CfnUserPoolGroup(
                self,
                f"{name.capitalize()}Group",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=name,
                description=description,
            )
        prefix = settings.cognito_domain_prefix or f"vigil-{settings.stage}-{Aws.ACCOUNT_ID}"
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        urls = [f"{origin}/" for origin in callback_origins]
        self.client = self.user_pool.add_client(
            "DashboardClient",
            generate_secret=False,  # a browser app cannot keep a secret; PKCE protects the code
            # SRP for the hosted UI; ADMIN_USER_PASSWORD lets an IAM-authenticated operator fetch a
            # token from the CLI (docs/deploy.md) - it cannot be called without AWS credentials.
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=urls,
                logout_urls=urls,
            ),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

    @property
    def domain_url(self) -> str:
        """https://<prefix>.auth.<region>.amazoncognito.com (hosted sign-in and token endpoints)."""
        return self.domain.base_url()

    @property
    def issuer_url(self) -> str:
        return self.user_pool.user_pool_provider_url
