"""Apache Linkis: the port the service depends on, the HTTP client and a local gateway."""
