"""Dropped into a real DSS: Eureka registration and DSS's workflow API."""
