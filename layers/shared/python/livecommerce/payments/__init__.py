"""Payments: WeChat Pay v3 JSAPI prepay and Alipay mini-program trade create,
and their verified asynchronous notifications."""
