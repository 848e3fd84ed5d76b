"""What the identity context declares: its table, routes, functions and events."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, Route, TableSpec

# Users, hosts, follows and the identity outbox (whose items expire by TTL if a
# crash left them unpublished for a week, as in every outbox).
IDENTITY = TableSpec(
    logical_id="Identity",
    env_var="IDENTITY_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="identity",
    description="Login, users, roles, hosts, follows",
    tables=(IDENTITY,),
    routes=(
        Route("POST", "/v1/auth/login", "identity", "public", "anyone",
              errors=(401, 502, 503)),   # provider refused the code; provider misconfigured / down
        Route("GET", "/v1/me", "identity", "token", "viewer", errors=(404,)),   # user_not_found
        Route("POST", "/v1/hosts", "identity", "token", "operator", errors=(404,)),   # user_not_found
        Route("GET", "/v1/hosts/{host_id}", "identity", "public", "anyone"),
        Route("PUT", "/v1/hosts/{host_id}/follow", "identity", "token", "viewer"),
        Route("DELETE", "/v1/hosts/{host_id}/follow", "identity", "token", "viewer"),
        # Assistants for every room of a host (the host or an operator); per room: the rooms context.
        Route("PUT", "/v1/hosts/{host_id}/assistants/{user_id}", "identity", "token", "host",
              errors=(400, 404)),   # self_assistant; host_not_found, user_not_found
        Route("DELETE", "/v1/hosts/{host_id}/assistants/{user_id}", "identity", "token", "host"),
        Route("GET", "/v1/hosts/{host_id}/assistants", "identity", "token", "host"),
    ),
    functions=(
        FunctionSpec(
            name="authorizer",
            description="API Gateway REQUEST authorizer: verifies login tokens",
            reads_token_secret=True,
            tables_read=(IDENTITY,),                 # the token's user must exist (identity.user_exists)
            memory_mb=256,
            timeout_seconds=5,
        ),
        FunctionSpec(
            name="identity",
            description="Login, profile, hosts and follows",
            tables_write=(IDENTITY,),
            reads_token_secret=True,
            reads_providers_secret=True,
            puts_events=True,
            # The WeChat/Alipay code exchange is an outbound HTTPS call with its own timeout.
            timeout_seconds=15,
        ),
    ),
    emits=("UserRegistered", "UserLoggedIn", "HostCreated", "HostFollowed", "HostUnfollowed", "AssistantGranted",
           "AssistantRevoked"),
    router="livecommerce.identity.router",
)
