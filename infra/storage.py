"""The two DynamoDB tables: `<prefix>-samples` (raw samples with TTL, rollups) and `<prefix>-meta`
(keys, hosts, rules, alert state/history, errors, traces, documents). Item design: docs/data-model.md.

Both use a generic `pk`/`sk` string key so the adapter, not the schema, owns the access patterns;
on-demand billing because ingest is bursty and small; TTL on `expires_at`; point-in-time recovery; an
AWS-owned-account KMS key (AWS_MANAGED: encryption at rest with no per-key monthly fee).

Must not import anything from `vigil/`.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.settings import Settings

TTL_ATTRIBUTE = "expires_at"


class Storage(Construct):
    """Creates `samples` and `meta` tables; names go to the functions as VIGIL_*_TABLE."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.samples = self._table("Samples", f"{settings.table_prefix}-samples", settings)
        self.meta = self._table("Meta", f"{settings.table_prefix}-meta", settings)

    def _table(self, construct_id: str, name: str, settings: Settings) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            table_name=name,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=settings.is_prod,
            removal_policy=RemovalPolicy.RETAIN if settings.keeps_data else RemovalPolicy.DESTROY,
        )

    def environment(self) -> dict[str, str]:
        """The variables `vigil.config.Config.from_env` reads to find the tables."""
        return {
            "VIGIL_STORE": "dynamodb",
            "VIGIL_SAMPLES_TABLE": self.samples.table_name,
            "VIGIL_META_TABLE": self.meta.table_name,
        }
