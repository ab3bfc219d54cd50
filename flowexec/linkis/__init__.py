"""Apache Linkis: the port the service depends on, its reply schemas and the HTTP client."""
