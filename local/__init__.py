"""The local stack (`make local`): everything on loopback, no AWS account, no Docker.

`local.standins` holds the stand-ins for third-party APIs (WeChat, Alipay) that
answer like the real services, so the same adapters run locally and in tests.
"""
