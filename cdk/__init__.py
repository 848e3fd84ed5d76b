"""Infrastructure (AWS CDK v2): stage config, stacks and reusable constructs."""
