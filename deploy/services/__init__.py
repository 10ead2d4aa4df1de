"""Local Kafka and PostgreSQL/PostGIS, installed and started by the project itself."""
