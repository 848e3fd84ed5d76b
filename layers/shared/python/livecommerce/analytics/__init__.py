"""Analytics: behaviour events, statistics, tags and exports."""
