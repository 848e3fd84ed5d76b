"""A regional WAFv2 web ACL for the API: a per-IP rate limit, the AWS managed
common and known-bad-inputs rule sets, and logs (Authorization redacted).
A client over the rate limit gets a 429 with `rate_limited_body` (problem+json)."""
from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

RATE_LIMIT_BODY_KEY = "too-many-requests"


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True)


def _managed(name: str, priority: int, *, count_rules: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}))
                    for rule in count_rules
                ] or None,
            )
        ),
        visibility_config=_visibility(name),
    )


class RegionalWebAcl(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        rate_limit_per_5min: int,
        rate_limited_body: str,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            description="API protection: per-IP rate limit and AWS managed rule sets",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            custom_response_bodies={
                RATE_LIMIT_BODY_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=rate_limited_body),
            },
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(
                        block=wafv2.CfnWebACL.BlockActionProperty(
                            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                                response_code=429, custom_response_body_key=RATE_LIMIT_BODY_KEY))),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=rate_limit_per_5min, aggregate_key_type="IP", evaluation_window_sec=300)),
                    visibility_config=_visibility("RateLimitPerIp"),
                ),
                # Bodies up to the routes' own limits (16 KiB) are fine here; the
                # common rule set would block anything over 8 KiB. Handlers enforce
                # their own limits, so that one rule only counts.
                _managed("AWSManagedRulesCommonRuleSet", 1, count_rules=("SizeRestrictions_BODY",)),
                _managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ],
        )

        # WAF log groups must be named aws-waf-logs-*; the ARN WAF wants has no ':*'.
        log_group_name = f"aws-waf-logs-{name}"
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=log_group_name, retention=log_retention, removal_policy=removal_policy)
        log_group_arn = Stack.of(self).format_arn(
            service="logs", resource="log-group", resource_name=log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME)
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group_arn],
            # Tokens never reach the logs.
            redacted_fields=[wafv2.CfnLoggingConfiguration.FieldToMatchProperty(
                single_header={"Name": "authorization"})],
        )
        logging.node.add_dependency(self.log_group)

    def associate(self, id: str, *, resource_arn: str, scope: Construct | None = None) -> wafv2.CfnWebACLAssociation:
        """Associate the ACL with a resource (an API stage). `scope`: where the association
        lives, by default here; pass the stage's own stack when that is another one (a
        nested stack), so the stage and its association are in one template."""
        return wafv2.CfnWebACLAssociation(
            scope or self, id, resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn)

