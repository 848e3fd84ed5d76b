"""One stack per lifecycle (data, media, api; later realtime, workflows, observability)."""
