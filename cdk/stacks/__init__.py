"""One stack per lifecycle (data, api; later media, realtime, workflows, observability)."""
