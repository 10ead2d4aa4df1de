"""Open311 GeoReport v2 HTTP intake: services from the taxonomy, requests become canonical reports."""
