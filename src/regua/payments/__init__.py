"""payments layer."""
