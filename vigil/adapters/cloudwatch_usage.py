"""Hourly usage of a Vigil deployment from the CloudWatch metrics AWS already publishes for it (no
custom metric, nothing to pay for but the GetMetricData call): Lambda `Invocations` and `Duration`
per function, API Gateway `Count` per HTTP API, DynamoDB `ConsumedRead/WriteCapacityUnits` per table
(on-demand tables report the request units they are billed for), SNS `NumberOfMessagesPublished` and
`NumberOfNotificationsDelivered` for the alerts topic, CloudWatch Logs `IncomingBytes` per log group —
all `Sum` over 3,600 s periods. Storage is no CloudWatch metric: `DescribeTable`'s `TableSizeBytes`
(which DynamoDB refreshes about every six hours) is taken as the size during each collected hour.

One GetMetricData request (paged) per run: ≤ 500 queries, here about 20; CloudWatch bills
US$0.01 per 1,000 metrics requested, so the hourly job costs ≈ US$0.15 a month.

Imports botocore lazily, through `vigil.adapters.aws` (the metrics function's cold start never pays for
it unless the job runs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vigil.config import CostSources
from vigil.domain.cost import Usage


class CloudWatchUsage:
    def __init__(
        self,
        sources: CostSources,
        samples_table: str,
        meta_table: str,
        topic_arn: str | None,
        cloudwatch: Any = None,
        dynamodb: Any = None,
    ) -> None:
        self.sources = sources
        self.tables = (samples_table, meta_table)
        self.topic = topic_arn.rsplit(":", 1)[-1] if topic_arn else None
        self._cloudwatch = cloudwatch
        self._dynamodb = dynamodb

    def _client(self, service: str) -> Any:
        from vigil.adapters import aws

        return aws.client(service, retry_mode="adaptive", max_attempts=5)

    def queries(self) -> list[tuple[dict[str, Any], str, float]]:
        """(GetMetricData query, Usage field, factor to the field's unit) for every source."""
        out: list[tuple[dict[str, Any], str, float]] = []

        def add(namespace: str, metric: str, dimension: str, value: str, field: str, factor: float) -> None:
            stat = {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": metric,
                    "Dimensions": [{"Name": dimension, "Value": value}],
                },
                "Period": 3600,
                "Stat": "Sum",
            }
            out.append(({"Id": f"q{len(out)}", "MetricStat": stat, "ReturnData": True}, field, factor))

        for name, memory_mb in self.sources.functions:
            add("AWS/Lambda", "Invocations", "FunctionName", name, "lambda_requests", 1.0)
            # Duration is in ms; billed GB-seconds = seconds x the function's memory in GB
            add("AWS/Lambda", "Duration", "FunctionName", name, "lambda_gb_seconds", memory_mb / 1024 / 1000)
        if self.sources.api_id:
            add("AWS/ApiGateway", "Count", "ApiId", self.sources.api_id, "api_requests", 1.0)
        for table in self.tables:
            add("AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table, "rru", 1.0)
            add("AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table, "wru", 1.0)
        if self.topic:
            add("AWS/SNS", "NumberOfMessagesPublished", "TopicName", self.topic, "sns_publishes", 1.0)
            add("AWS/SNS", "NumberOfNotificationsDelivered", "TopicName", self.topic, "sns_deliveries", 1.0)
        for group in self.sources.log_groups:
            add("AWS/Logs", "IncomingBytes", "LogGroupName", group, "log_bytes", 1.0)
        return out

    def hours(self, start: float, end: float) -> dict[float, Usage]:
        """Usage of every hour in [start, end) (hour-aligned epoch seconds); hours without data are
        zero usage but still covered (their `seconds` count)."""
        queries = self.queries()
        if self._cloudwatch is None:
            self._cloudwatch = self._client("cloudwatch")
        fields: dict[float, dict[str, float]] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": [q for q, _f, _x in queries],
                "StartTime": datetime.fromtimestamp(start, UTC),
                "EndTime": datetime.fromtimestamp(end, UTC),
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            answer = self._cloudwatch.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults", []):
                _query, field, factor = queries[int(result["Id"][1:])]
                for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    hour = float(int(ts.timestamp()) // 3600 * 3600)
                    per = fields.setdefault(hour, {})
                    per[field] = per.get(field, 0.0) + float(value) * factor
            token = answer.get("NextToken")
            if not token:
                break
        gb = self.stored_gb()
        out = {}
        hour = start
        while hour < end:
            out[hour] = Usage(seconds=3600.0, storage_gb_hours=gb, **fields.get(hour, {}))
            hour += 3600.0
        return out

    def stored_gb(self) -> float:
        """Both tables' `TableSizeBytes` in GB (DescribeTable; no CloudWatch metric carries it)."""
        if self._dynamodb is None:
            self._dynamodb = self._client("dynamodb")
        size = sum(
            int(self._dynamodb.describe_table(TableName=t)["Table"].get("TableSizeBytes", 0))
            for t in self.tables
        )
        return size / 1e9
