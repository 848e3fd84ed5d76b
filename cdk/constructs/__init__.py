"""Reusable constructs with keyword-only props.

(The package is cdk.constructs; the `constructs` library is still imported as
`constructs`, absolute imports keep the two apart.)"""
