"""arq workers and the sinks they feed: ClickHouse, Kafka, tilt inference, Web Push."""
